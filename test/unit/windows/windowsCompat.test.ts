import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildFromImageTag,
  checkWindowsCompatibility,
  parseWindowsVersion,
  pickWindowsManifest,
  WindowsReleases,
} from '../../../engine/src/image/windowsCompat';

test('parses a Windows os.version with and without its revision', () => {
  assert.deepEqual(parseWindowsVersion('10.0.20348.2655'), { major: 10, minor: 0, build: 20348, revision: 2655 });
  assert.deepEqual(parseWindowsVersion('10.0.17763'), { major: 10, minor: 0, build: 17763 });
  assert.equal(parseWindowsVersion('ltsc2022'), undefined);
  assert.equal(parseWindowsVersion('10.0'), undefined);
  assert.equal(parseWindowsVersion(''), undefined);
});

test('knows the LTSC releases by build', () => {
  assert.equal(WindowsReleases[17763].name, 'ltsc2019');
  assert.equal(WindowsReleases[20348].name, 'ltsc2022');
  assert.equal(WindowsReleases[26100].name, 'ltsc2025');
  assert.equal(WindowsReleases[26100].ltsc, true);
  assert.equal(WindowsReleases[22631].ltsc, false);
});

test('reads the build from the tag spellings MCR uses', () => {
  const cases: Array<[string, number | undefined]> = [
    ['mcr.microsoft.com/windows/servercore:ltsc2022', 20348],
    ['servercore:ltsc2019', 17763],
    ['ltsc2025', 26100],
    ['2022', 20348],
    ['1809', 17763],
    ['10.0.20348.2655', 20348],
    ['mcr.microsoft.com/windows/nanoserver:10.0.17763.6189', 17763],
    ['mcr.microsoft.com/dotnet/framework/sdk:4.8-windowsservercore-ltsc2019', 17763],
    ['mcr.microsoft.com/dotnet/aspnet:8.0-nanoserver-ltsc2022', 20348],
    ['nanoserver-1809', 17763],
    ['10.0.20348.2655-KB5041054', 20348],
    ['localhost:5000/app', undefined],
    ['localhost:5000/app:ltsc2022', 20348],
    ['servercore:latest', undefined],
    ['alpine:3.20', undefined],
    ['servercore@sha256:abcd', undefined],
  ];
  for (const [tag, build] of cases) assert.equal(buildFromImageTag(tag), build, tag);
});

// The Microsoft matrix (version-compatibility.md) for the four host builds a user is likely to have.
const images = [17763, 20348, 26100];
const expected: Record<number, { process: number[]; hyperv: number[] }> = {
  17763: { process: [17763], hyperv: [17763] },          // WS2019: exact build only
  20348: { process: [20348], hyperv: [17763, 20348] },   // WS2022
  22631: { process: [20348], hyperv: [17763, 20348] },   // Windows 11 23H2 runs WS2022 images
  26100: { process: [20348, 26100], hyperv: [17763, 20348, 26100] }, // WS2025 / Win11 24H2
};

for (const [host, want] of Object.entries(expected)) {
  for (const isolation of ['process', 'hyperv'] as const) {
    test(`host ${host} with ${isolation} isolation runs exactly ${want[isolation].join(', ')}`, () => {
      for (const image of images) {
        const r = checkWindowsCompatibility(Number(host), image, isolation);
        assert.equal(r.compatible, want[isolation].includes(image), `image ${image}: ${r.reason}`);
        assert.match(r.reason, /^[A-Z].*\.$/, 'one sentence');
        assert.ok(!r.reason.includes('\n'));
      }
    });
  }
}

test('process isolation mismatch on an older host suggests Hyper-V and the matching tag', () => {
  const r = checkWindowsCompatibility(26100, 17763, 'process');
  assert.equal(r.compatible, false);
  assert.deepEqual(r.suggest, { isolation: 'hyperv', tag: 'ltsc2025' });
  assert.match(r.reason, /17763/);
  assert.match(r.reason, /--isolation hyperv/);
});

test('a WS2019 host suggests ltsc2019 for a ltsc2022 image', () => {
  const r = checkWindowsCompatibility(17763, 20348, 'process');
  assert.equal(r.compatible, false);
  assert.equal(r.suggest?.tag, 'ltsc2019');
  assert.equal(r.suggest?.isolation, undefined, 'Hyper-V cannot run a newer image either');
  assert.match(r.reason, /newer/);
});

test('Windows 11 suggests the ltsc2022 tag, not its own client build', () => {
  const r = checkWindowsCompatibility(22631, 17763, 'process');
  assert.deepEqual(r.suggest, { isolation: 'hyperv', tag: 'ltsc2022' });
});

test('picks the highest compatible os.version, compared as numbers', () => {
  const list = [
    { osVersion: '10.0.17763.6189' },
    { osVersion: '10.0.20348.2655', osFeatures: ['win32k'] },
    { osVersion: '10.0.20348.999' },
    { osVersion: '10.0.26100.1742' },
  ];
  assert.equal(pickWindowsManifest(20348, 'process', list), 1);
  assert.equal(pickWindowsManifest(17763, 'process', list), 0);
  assert.equal(pickWindowsManifest(26100, 'process', list), 3);
  assert.equal(pickWindowsManifest(22631, 'hyperv', list), 1);
  assert.equal(pickWindowsManifest(14393, 'process', list), -1);
  assert.equal(pickWindowsManifest(20348, 'process', [{ osVersion: '10.0.9999.1' }, { osVersion: '10.0.20348.10' }]), 1);
});

test('an entry without os.version matches but loses to a versioned match', () => {
  assert.equal(pickWindowsManifest(20348, 'process', [{}, { osVersion: '10.0.20348.1' }]), 1);
  assert.equal(pickWindowsManifest(20348, 'process', [{}, { osVersion: '10.0.17763.1' }]), 0);
  assert.equal(pickWindowsManifest(20348, 'process', []), -1);
});

test('ties keep the first entry', () => {
  assert.equal(pickWindowsManifest(20348, 'process', [{ osVersion: '10.0.20348.5' }, { osVersion: '10.0.20348.5' }]), 0);
});
