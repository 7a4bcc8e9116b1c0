// TEST FIXTURE: a Windows engine platform that runs on Linux. Isolations, host facts and the
// run-ability check are the real Windows platform's (platform/windows windowsPlatform over a fake host
// with or without Hyper-V); the snapshotter, the runtime and the host's file system are doubles: the
// snapshotter keeps layer chain IDs and hands out windows-layer mounts, the runtime records the specs
// it is given, and bind sources exist when they are in `hostDirs` (or are pipes).
import { Readable } from 'node:stream';
import { invalidArgument } from '../../../engine/src/errors';
import type { Mount, Snapshotter } from '../../../engine/src/layers/snapshotter';
import { windowsPlatform } from '../../../engine/src/platform/windows';
import type { WindowsHostInfo } from '../../../engine/src/platform/windows/host';
import { windowsLayerMount } from '../../../engine/src/platform/windows/windowsLayerMount';
import type { ContainerSpec, Runtime, Started } from '../../../engine/src/runtime/runtime';
import type { Platform } from '../../../engine/src/service/engine';

export class FixtureWindowsSnapshotter implements Snapshotter {
  readonly name = 'windowsfilter';
  readonly layers = new Set<string>();
  readonly snapshots = new Map<string, string | undefined>();

  async applyLayer(chainID: string, _parent: string | undefined, tar: Readable) {
    for await (const _ of tar) void _;
    this.layers.add(chainID);
    return { size: 0 };
  }
  async hasLayer(chainID: string) {
    return this.layers.has(chainID);
  }
  async removeLayer(chainID: string) {
    this.layers.delete(chainID);
  }
  async prepare(key: string, parent: string | undefined): Promise<Mount[]> {
    this.snapshots.set(key, parent);
    return this.mounts(key);
  }
  async mounts(key: string): Promise<Mount[]> {
    const parent = this.snapshots.get(key);
    return [windowsLayerMount({ scratchPath: `C:\\ProgramData\\silo\\snapshots\\${key}`, parentLayerPaths: parent ? [`C:\\ProgramData\\silo\\layers\\${parent.slice(7)}`] : [] })];
  }
  async changes() {
    return [];
  }
  exportChanges(): Readable {
    return Readable.from([]);
  }
  async remove(key: string) {
    this.snapshots.delete(key);
  }
  async list() {
    return { layers: [...this.layers], snapshots: [...this.snapshots.keys()] };
  }
}

export class FixtureRecordingRuntime implements Runtime {
  readonly name = 'hcs';
  readonly started: ContainerSpec[] = [];
  async start(spec: ContainerSpec): Promise<Started> {
    this.started.push(spec);
    throw invalidArgument('the fixture runtime runs nothing');
  }
  async exec(): Promise<Started> {
    throw invalidArgument('the fixture runtime runs nothing');
  }
  async delete() {}
}

export const fixtureWindowsHost = (hyperv: boolean): WindowsHostInfo => ({ version: '10.0.20348.2655', build: 20348, revision: 2655, containers: true, hyperv, cpuCount: 4 });

/** A Windows platform over the doubles above; `hostDirs` are the host directories that exist (any case). */
export function fixtureWindowsPlatform(root: string, opts: { hyperv: boolean; hostDirs: string[] }): Platform & { runtime: FixtureRecordingRuntime } {
  const real = windowsPlatform(root, { host: () => fixtureWindowsHost(opts.hyperv) });
  const dirs = new Set(opts.hostDirs.map((d) => d.toLowerCase()));
  return {
    os: 'windows',
    snapshotter: new FixtureWindowsSnapshotter(),
    runtime: new FixtureRecordingRuntime(),
    isolations: real.isolations,
    facts: () => ({ ...real.facts(), runtime: 'hcs' }),
    checkRunnable: real.checkRunnable,
    checkBindSource: (source) => {
      if (/^\\\\\.\\pipe\\/i.test(source)) return;
      if (!dirs.has(source.toLowerCase())) throw invalidArgument(`bind source path does not exist: ${source}`, 'create it first, or check the spelling');
    },
  };
}
