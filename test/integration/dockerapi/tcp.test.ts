// `silo engine --docker-tcp HOST:PORT`: the Docker API over TCP only when asked, and only on loopback.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import { freePort } from '../../fixtures/fixtureRegistry';
import { SiloFixture } from '../../fixtures/fixtureSilo';

const DOCKER = '/usr/local/bin/docker';
const fixtures: SiloFixture[] = [];
after(() => fixtures.forEach((f) => f.dispose()));

function silo(): SiloFixture {
  const f = new SiloFixture();
  fixtures.push(f);
  return f;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

test('a non-loopback --docker-tcp address is refused with one line, before anything starts', () => {
  const f = silo();
  for (const addr of ['0.0.0.0:2375', '10.1.2.3:2375', 'tcp://192.168.1.5:2375', 'example.com:2375', '[::]:2375']) {
    const r = f.run(['engine', '--docker-tcp', addr], { timeoutMs: 20_000 });
    assert.notEqual(r.code, 0, addr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line for ${addr}: ${r.stderr}`);
    assert.match(lines[0], /refused: the Docker API listens on loopback only.*use 127\.0\.0\.1:PORT/);
    assert.ok(lines[0].includes(addr), 'names the address');
  }
  const bad = f.run(['engine', '--docker-tcp', 'nonsense'], { timeoutMs: 20_000 });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr.trim(), /^[^\n]*--docker-tcp nonsense is not HOST:PORT[^\n]*$/);
  // Nothing was left behind: no engine socket, and the root is still free for an engine.
  assert.equal(existsSync(`${f.root}/engine.sock`), false);
  assert.equal(existsSync(`${f.root}/docker.sock`), false);
});

test('without --docker-tcp nothing listens on TCP; with 127.0.0.1:PORT the docker CLI works over it', { skip: !existsSync(DOCKER) && 'docker CLI missing' }, async () => {
  const f = silo();
  const port = await freePort();
  const child = f.spawn(['engine', '--docker-tcp', `127.0.0.1:${port}`]);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  try {
    for (let i = 0; i < 100 && !stderr.includes('serving'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(stderr, new RegExp(`Docker API also on tcp://127\\.0\\.0\\.1:${port}`));
    const r = spawnSync(DOCKER, ['version', '--format', '{{.Server.APIVersion}}'], { env: { ...process.env, DOCKER_HOST: `tcp://127.0.0.1:${port}` }, timeout: 30_000 });
    assert.equal(r.stdout.toString().trim(), '1.41', r.stderr.toString());
    // The same engine behind both: the unix socket still answers.
    assert.equal(f.ok(['docker-env']).trim(), `export DOCKER_HOST=unix://${f.root}/docker.sock`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  assert.equal(await portOpen(port), false, 'the TCP listener closes with the engine');

  // An engine started on demand (no option) opens no TCP port.
  const other = silo();
  other.ok(['ps']);
  assert.equal(await portOpen(port), false);
});
