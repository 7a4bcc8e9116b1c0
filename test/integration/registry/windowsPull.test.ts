// `silo pull --platform windows/amd64:10.0.20348.1` on Linux, through the real CLI: the Windows entry
// of a multi-platform index is stored (not unpacked), listed and inspected like any image, and
// `silo run` refuses it at once with one clear line.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { SiloFixture } from '../../fixtures/fixtureSilo';
import { hasRegistry, startRegistry } from '../../fixtures/fixtureRegistry';
import { fixtureFiles, pushFixtureImage } from '../../fixtures/fixtureRegistryImage';

const skip = !hasRegistry || process.getuid?.() !== 0 ? 'needs root and docker-registry' : false;
const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('silo pull --platform windows/amd64:10.0.20348.1 stores the Windows image; silo run refuses it in one line', { skip }, async () => {
  const reg = await startRegistry();
  cleanups.push(reg.dispose);
  // Windows layers carry Files/ and Hives/ (the windowsfilter layout); here they are only verified, never unpacked.
  const winLayers = [[...fixtureFiles('Files/Windows', 2, 4096), { name: 'Hives/SOFTWARE_BASE', data: 'hive' }], fixtureFiles('Files/app', 1, 4096)];
  const pushed = await pushFixtureImage(reg.domain, 'win/app', 'ltsc2022', [
    { os: 'linux', layers: [fixtureFiles('lin', 1, 4096)] },
    { os: 'windows', osVersion: '10.0.17763.5458', layers: winLayers, cmd: ['cmd', '/S', '/C', 'echo old'] },
    { os: 'windows', osVersion: '10.0.20348.1', layers: winLayers, cmd: ['cmd', '/S', '/C', 'echo hi'] },
  ]);
  const silo = new SiloFixture();
  cleanups.push(() => silo.dispose());
  const name = `${reg.domain}/win/app:ltsc2022`;

  const out = silo.ok(['pull', '--platform', 'windows/amd64:10.0.20348.1', name]);
  assert.match(out, /Status: Downloaded newer image for/);

  const images = silo.ok(['images']);
  assert.match(images, /win\/app\s+ltsc2022/);
  const [inspected] = JSON.parse(silo.ok(['inspect', name]));
  assert.equal(inspected.Os, 'windows');
  assert.equal(inspected.OsVersion, '10.0.20348.1');
  assert.equal(inspected.Architecture, 'amd64');
  assert.equal(inspected.Id, pushed.images[2].config, 'the 20348 entry, not the 17763 one');
  assert.equal(inspected.RootFS.Layers.length, 2);

  const started = Date.now();
  const run = silo.run(['run', '--rm', name]);
  assert.notEqual(run.code, 0);
  assert.ok(Date.now() - started < 20_000, 'fails at once');
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${run.stderr}`);
  assert.match(lines[0], /windows/i);
  assert.equal(silo.ok(['ps', '-aq']).trim(), '', 'no container left behind');
});
