// Where the Docker API listens and what `silo docker-env` prints, for both OSes (the OS is a parameter).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerApiAddress, dockerEnvLine, dockerHost, isPipeAddress } from '../../../engine/src/dockerapi/endpoint';
import { engineSocketPath } from '../../../engine/src/rpc/paths';

test('Linux: the socket in the data root, and a POSIX export line', () => {
  assert.equal(dockerApiAddress('/var/lib/silo', 'linux'), '/var/lib/silo/docker.sock');
  assert.equal(dockerHost('/var/lib/silo', 'linux'), 'unix:///var/lib/silo/docker.sock');
  assert.equal(dockerEnvLine('/var/lib/silo', 'linux'), 'export DOCKER_HOST=unix:///var/lib/silo/docker.sock');
});

test("Windows: Silo's own pipe per data root, never docker_engine, and the PowerShell line", () => {
  const pipe = dockerApiAddress('C:\\ProgramData\\silo', 'win32');
  assert.match(pipe, /^\\\\\.\\pipe\\silo-docker-[0-9a-f]{16}$/);
  assert.ok(isPipeAddress(pipe));
  assert.ok(!/docker_engine/.test(pipe));
  // One root, however it is spelled; another root, another pipe.
  assert.equal(dockerApiAddress('c:\\programdata\\SILO\\', 'win32'), pipe);
  assert.notEqual(dockerApiAddress('D:\\silo', 'win32'), pipe);
  const name = pipe.slice('\\\\.\\pipe\\'.length);
  assert.equal(dockerHost('C:\\ProgramData\\silo', 'win32'), `npipe:////./pipe/${name}`);
  assert.equal(dockerEnvLine('C:\\ProgramData\\silo', 'win32'), `$env:DOCKER_HOST="npipe:////./pipe/${name}"`);
});

test('the engine protocol is a socket in the data root on Linux and a pipe of its own per data root on Windows', () => {
  assert.equal(engineSocketPath('/var/lib/silo', 'linux'), '/var/lib/silo/engine.sock');
  const pipe = engineSocketPath('C:\\ProgramData\\silo', 'win32');
  assert.match(pipe, /^\\\\\.\\pipe\\silo-engine-[0-9a-f]{16}$/);
  assert.equal(engineSocketPath('c:\\programdata\\SILO', 'win32'), pipe, 'one root whatever its case');
  assert.notEqual(engineSocketPath('D:\\silo', 'win32'), pipe);
  assert.equal(pipe.slice(-16), dockerApiAddress('C:\\ProgramData\\silo', 'win32').slice(-16), 'the same root names both pipes');
});
