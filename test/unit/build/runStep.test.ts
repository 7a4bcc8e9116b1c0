// What the builder asks of the engine for a RUN step: the image's VOLUMEs as the step container's
// volumes (so its writes there stay out of its layer), and the step's layer handed to createImage with
// the snapshot it came from (so the files are moved into the layer, not unpacked again).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { Builder, type BuildDeps, type RunStep } from '../../../engine/src/build/builder';
import { BuildCache } from '../../../engine/src/build/cache';
import type { ContainerConfig, DockerImageConfig } from '../../../engine/src/image/types';
import { ContentStore } from '../../../engine/src/store/content';

/** Test fixture: BuildDeps over an in-memory image table; RUN steps "run" by recording what they were given. */
function depsFixture(root: string) {
  const images = new Map<string, DockerImageConfig>([['sha256:base', { architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'] }, rootfs: { type: 'layers', diff_ids: [] } }]]);
  const runs: RunStep[] = [];
  const created: Array<{ snapshot?: string; hasLayer: boolean; config: ContainerConfig }> = [];
  const deps: BuildDeps = {
    content: new ContentStore(root),
    cache: new BuildCache(root),
    os: 'linux',
    architecture: 'amd64',
    resolveImage: async (ref) => (ref === 'base' || images.has(ref) ? { id: ref === 'base' ? 'sha256:base' : ref, layers: [] } : undefined),
    imageConfig: async (id) => images.get(id)!,
    createImage: async (o) => {
      o.layer?.resume();
      created.push({ snapshot: o.snapshot, hasLayer: !!o.layer, config: o.config });
      const id = `sha256:${images.size}`;
      images.set(id, { architecture: 'amd64', os: 'linux', config: o.config, rootfs: { type: 'layers', diff_ids: [] } });
      return { id };
    },
    tag: async () => undefined,
    run: async (step) => {
      runs.push(step);
      step.onStart(`step${runs.length}`);
      return { exitCode: 0, commit: async () => ({ tar: Readable.from([Buffer.alloc(1024)]), snapshot: `step${runs.length}` }), remove: async () => undefined };
    },
  };
  return { deps, runs, created };
}

test('a RUN after VOLUME gets the volumes, and its layer is committed from its own snapshot', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'silo-runstep-'));
  const ctx = mkdtempSync(path.join(os.tmpdir(), 'silo-runstep-ctx-'));
  try {
    const dockerfile = 'FROM base\nRUN echo before\nVOLUME ["/data", "/var/lib/db"]\nRUN echo after\n';
    writeFileSync(path.join(ctx, 'Dockerfile'), dockerfile);
    const f = depsFixture(root);
    const r = await new Builder(f.deps, { context: ctx, noCache: true }, () => undefined).build(dockerfile);
    assert.match(r.id, /^sha256:/);
    assert.deepEqual(f.runs.map((s) => s.volumes), [[], ['/data', '/var/lib/db']]);
    const layered = f.created.filter((c) => c.hasLayer);
    assert.deepEqual(layered.map((c) => c.snapshot), ['step1', 'step2']);
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(ctx, { recursive: true, force: true });
  }
});
