// Testcontainers for Node against Silo's Docker API: a container from the local busybox image with an
// exposed port and a wait strategy, reached over loopback. Ryuk (the reaper container) is disabled:
// it would need to pull its image, and there is no network here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SiloFixture } from '../../fixtures/fixtureSilo';

let silo: SiloFixture;

before(() => {
  silo = new SiloFixture();
  silo.importBusybox();
  const m = /^export DOCKER_HOST=(unix:\/\/.+)$/.exec(silo.ok(['docker-env']).trim());
  assert.ok(m);
  process.env.DOCKER_HOST = m[1];
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  // This machine has /.dockerenv, so Testcontainers would look for a gateway through a "bridge" network
  // and an alpine container; Silo publishes ports on the host itself, so the host is loopback.
  process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';
});
after(() => silo?.dispose());

test('a busybox httpd started by Testcontainers answers on its mapped port', { timeout: 120_000 }, async () => {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer('busybox:latest')
    .withExposedPorts(80)
    .withCommand(['sh', '-c', 'mkdir -p /www && echo hello from silo > /www/index.html && exec httpd -f -p 80 -h /www'])
    .withWaitStrategy(Wait.forHttp('/', 80).forStatusCode(200))
    .withStartupTimeout(60_000)
    .start();
  try {
    const url = `http://${container.getHost()}:${container.getMappedPort(80)}/`;
    const res = await fetch(url.replace('localhost', '127.0.0.1'));
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello from silo\n');
    const r = await container.exec(['cat', '/www/index.html']);
    assert.equal(r.exitCode, 0);
    assert.equal(r.output, 'hello from silo\n');
  } finally {
    await container.stop();
  }
  assert.equal(silo.ok(['ps', '-aq']), '', 'stop removed the container (Testcontainers removes on stop)');
});
