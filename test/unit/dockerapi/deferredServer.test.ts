// The engine's Docker API socket listens from the start but loads the HTTP server at its first
// connection, and the engine loads the builder and the registry client at their first use: an engine
// nobody asks for them holds none of their code (the idle memory target). Requests still work the same.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { listenDockerApi, type DockerApiServer } from '../../../engine/src/dockerapi/deferredServer';
import { hostPlatform } from '../../../engine/src/platform';
import { Engine } from '../../../engine/src/service/engine';

function loaded(file: string): boolean {
  return Object.keys(require.cache).some((k) => k.split(path.sep).join('/').endsWith(file));
}

function ping(socketPath: string, agent?: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: '/_ping', agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let root = '';
let engine: Engine;
let api: DockerApiServer | undefined;

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'silo-deferred-'));
  engine = new Engine(root, hostPlatform(root));
  await engine.init();
});

after(async () => {
  await api?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

test('an engine never asked for the Docker API, a build or a registry holds none of their code', async () => {
  api = await listenDockerApi(engine, path.join(root, 'docker.sock'));
  assert.equal(api.address, `unix://${path.join(root, 'docker.sock')}`);
  for (const part of ['dockerapi/server.ts', 'dockerapi/router.ts', 'build/builder.ts', 'build/dockerfile.ts', 'registry/client.ts', 'registry/pull.ts']) {
    assert.equal(loaded(part), false, `${part} is loaded before its first use`);
  }
  assert.ok(engine.distribution.credentials); // its first use
  assert.equal(loaded('registry/client.ts'), true);
});

test('the Docker API answers from its first connection on, over one connection or many', async () => {
  const sock = path.join(root, 'docker.sock');
  assert.deepEqual(await ping(sock), { status: 200, body: 'OK' });
  assert.equal(loaded('dockerapi/server.ts'), true);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < 3; i++) assert.deepEqual(await ping(sock, agent), { status: 200, body: 'OK' });
    assert.deepEqual(await Promise.all([ping(sock), ping(sock)]), [{ status: 200, body: 'OK' }, { status: 200, body: 'OK' }]);
  } finally {
    agent.destroy();
  }
});

test('closing ends kept-alive connections and removes the socket', async () => {
  const sock = path.join(root, 'docker.sock');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  await ping(sock, agent); // leaves an idle keep-alive connection open
  const closed = Date.now();
  await api!.close();
  api = undefined;
  assert.ok(Date.now() - closed < 5000, 'close waited for the kept-alive connection');
  assert.equal(fs.existsSync(sock), false);
  await assert.rejects(ping(sock), { code: 'ENOENT' });
  agent.destroy();
});
