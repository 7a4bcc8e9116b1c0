// -p publishes a container port on the host's loopback through the monitor's proxy.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { SiloFixture } from '../../fixtures/fixtureSilo';

let silo: SiloFixture;
before(() => {
  silo = new SiloFixture();
  silo.importBusybox();
});
after(() => silo.dispose());

function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/' }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

test('a web server in a container answers on 127.0.0.1:<published port>', async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  silo.ok(['run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sh', '-c', 'mkdir -p /www && echo "hello from silo" > /www/index.html && exec httpd -f -p 80 -h /www']);
  let res: { status: number; body: string } | undefined;
  for (let i = 0; i < 50 && !res; i++) {
    res = await get(port).catch(() => undefined);
    if (!res) await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(res, { status: 200, body: 'hello from silo\n' });
  assert.match(silo.ok(['ps']), new RegExp(`127\\.0\\.0\\.1:${port}->80/tcp`));
  // Two at once: each connection gets its own path into the container.
  const both = await Promise.all([get(port), get(port)]);
  assert.deepEqual(both.map((b) => b.body), ['hello from silo\n', 'hello from silo\n']);
  silo.ok(['rm', '-f', 'web']);
  await assert.rejects(get(port), 'the port is released when the container goes');
});

test('a port already in use is refused with the reason', () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  silo.ok(['run', '-d', '--name', 'first', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sleep', '60']);
  const r = silo.run(['run', '-d', '--name', 'second', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sleep', '60']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /cannot publish port 127\.0\.0\.1:\d+: Address already in use/);
  silo.ok(['rm', '-f', 'first']);
});
