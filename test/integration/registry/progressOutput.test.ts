// What `pull` and `push` print when their output is not a terminal, with dockerd as the oracle. Pull:
// per layer the same statuses in the same order ("Pulling fs layer", "Waiting" past the third layer,
// "Verifying Checksum", "Download complete", "Pull complete"; no progress lines), for `silo pull` and for
// the docker CLI pulling through Silo's Docker API, and nothing per layer for an image already there.
// Push into another repository: the same statuses ("Preparing", "Mounted from team/app"; then "Layer
// already exists"), the config blob not shown. (dockerd 20.10 names pushed layers by diff ID, Silo by
// blob digest as pulls and containerd's store do, so push lines are compared without their IDs.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { SiloFixture } from '../../fixtures/fixtureSilo';
import { hasRegistry, startRegistry } from '../../fixtures/fixtureRegistry';
import { fixtureFiles, pushFixtureImage } from '../../fixtures/fixtureRegistryImage';
import { DOCKER_CLIENT, startDockerd } from '../../fixtures/fixtureDockerd';

const skip = !hasRegistry || process.getuid?.() !== 0 ? 'needs root and docker-registry' : !existsSync(DOCKER_CLIENT) ? 'docker CLI missing' : false;
const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/**
 * Each layer's status lines in order, and the other lines (header, digest, status) in order. dockerd
 * sometimes leaves out "Verifying Checksum" of a layer that downloaded fast; Silo always says it, so
 * `lenient` drops it (after checking it is there).
 */
function shape(out: string, lenient = false): { layers: Record<string, string[]>; rest: string[] } {
  const layers: Record<string, string[]> = {};
  const rest: string[] = [];
  for (const line of out.split('\n').filter(Boolean)) {
    const m = /^([0-9a-f]{12}): (.*)$/.exec(line);
    if (m) (layers[m[1]] ??= []).push(m[2]);
    else rest.push(line);
  }
  if (lenient) {
    for (const [id, statuses] of Object.entries(layers)) {
      if (statuses.includes('Download complete')) assert.ok(statuses.includes('Verifying Checksum'), `${id}: ${statuses.join(', ')}`);
      layers[id] = statuses.filter((st) => st !== 'Verifying Checksum');
    }
  }
  return { layers, rest };
}

/** dockerd's output, with "Verifying Checksum" dropped (it leaves it out at times). */
function dockerShape(out: string): { layers: Record<string, string[]>; rest: string[] } {
  const s = shape(out);
  for (const id of Object.keys(s.layers)) s.layers[id] = s.layers[id].filter((st) => st !== 'Verifying Checksum');
  return s;
}

test('pull and push print what docker prints: per layer the same statuses, none for an image already there', { skip }, async () => {
  const reg = await startRegistry();
  cleanups.push(reg.dispose);
  await pushFixtureImage(reg.domain, 'team/app', '1', [{ layers: [0, 1, 2, 3, 4].map((i) => fixtureFiles(`l${i}`, 2, (i + 1) * 300_000)) }]);
  const name = `${reg.domain}/team/app:1`;

  const dockerd = await startDockerd();
  cleanups.push(() => dockerd.stop());
  const dockerEnv = { ...dockerd.env, DOCKER_CONFIG: mkdtempSync('/tmp/silo-dockercfg-') };
  const viaDockerd = (args: string[]) => spawnSync(DOCKER_CLIENT, args, { env: dockerEnv, timeout: 120_000 }).stdout.toString();
  const expected = dockerShape(viaDockerd(['pull', name]));
  const expectedAgain = dockerShape(viaDockerd(['pull', name]));
  assert.equal(Object.keys(expected.layers).length, 5);
  assert.deepEqual(expectedAgain.layers, {});

  const silo = new SiloFixture();
  cleanups.push(() => silo.dispose());
  const got = shape(silo.ok(['pull', name]), true);
  assert.deepEqual(got.layers, expected.layers);
  assert.deepEqual(got.rest, expected.rest);
  assert.deepEqual(shape(silo.ok(['pull', name])), expectedAgain);

  // The docker CLI through Silo's Docker API, into another data root.
  const api = new SiloFixture();
  cleanups.push(() => api.dispose());
  const sock = /^export DOCKER_HOST=unix:\/\/(.+)$/.exec(api.ok(['docker-env']).trim())![1];
  const viaSilo = (args: string[]) => spawnSync(DOCKER_CLIENT, args, { env: { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: dockerEnv.DOCKER_CONFIG }, timeout: 120_000 }).stdout.toString();
  const throughApi = shape(viaSilo(['pull', name]), true);
  assert.deepEqual(throughApi.layers, expected.layers);
  assert.deepEqual(throughApi.rest, expected.rest);
  assert.deepEqual(shape(viaSilo(['pull', name])), expectedAgain);

  // Push into another repository of the same registry: every layer mounted from team/app, then present.
  const statuses = (out: string) => Object.values(shape(out).layers).flat().sort();
  const pushed = (push: (args: string[]) => string, tag: (args: string[]) => string, repo: string) => {
    tag(['tag', name, `${reg.domain}/${repo}:2`]);
    return [statuses(push(['push', `${reg.domain}/${repo}:2`])), statuses(push(['push', `${reg.domain}/${repo}:2`]))];
  };
  const dockerPush = pushed(viaDockerd, viaDockerd, 'docker/app');
  assert.deepEqual(dockerPush[0], [...Array(5).fill('Mounted from team/app'), ...Array(5).fill('Preparing')]);
  assert.deepEqual(pushed((a) => silo.ok(a), (a) => silo.ok(a), 'silo/app'), dockerPush);
  assert.deepEqual(pushed(viaSilo, viaSilo, 'api/app'), dockerPush);
});
