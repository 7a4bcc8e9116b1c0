// containerd's 34 TestBreakouts cases (plus each with leading slashes dropped, so the symlink checks
// are reached, not only the absolute-name check): every one is refused or stays inside the root, and
// the sentinel tree around the root is byte-for-byte untouched. Overlay layers also go through the
// layer worker, as a pull unpacks them (a gzip blob in, layers/layerWorkers.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { isKind } from '../../../engine/src/errors';
import { extractLayer } from '../../../engine/src/layers/extract';
import { unpackInWorker } from '../../../engine/src/layers/layerWorkers';
import { linuxSpecialFiles } from '../../../engine/src/platform/linux/libc';
import { breakoutCases, withRelativeNames, type BreakoutCase } from '../../fixtures/layers/breakouts';
import { buildTar } from '../../fixtures/layers/tars';

/** Everything under `base` except `skip`: type, mode, owner, size, mtime, contents, link target. */
function snapshot(base: string, skip: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir)) {
      const p = path.join(dir, name);
      if (p === skip) continue;
      const st = fs.lstatSync(p);
      let what = `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.mtimeMs}`;
      if (st.isFile()) what += ' ' + createHash('sha256').update(fs.readFileSync(p)).digest('hex');
      if (st.isSymbolicLink()) what += ' -> ' + fs.readlinkSync(p);
      out[path.relative(base, p)] = what;
      if (st.isDirectory()) walk(p);
    }
  };
  walk(base);
  return out;
}

function setUp(): { base: string; root: string } {
  const base = fs.mkdtempSync('/var/tmp/silo-breakout-');
  fs.mkdirSync(path.join(base, 'etc'));
  fs.writeFileSync(path.join(base, 'etc/passwd'), 'host passwd');
  fs.mkdirSync(path.join(base, 'tmp'));
  fs.writeFileSync(path.join(base, 'perm400'), '...', { mode: 0o400 });
  fs.writeFileSync(path.join(base, 'also-exists-outside-root'), '...', { mode: 0o640 });
  // Deep enough that every "../" chain in the cases ends inside `base`, where the snapshot sees it.
  const root = path.join(base, 'n1/n2/n3/n4/n5/n6/n7/n8/root');
  fs.mkdirSync(root, { recursive: true });
  return { base, root };
}

async function run(c: BreakoutCase, mode: 'apply' | 'overlay', worker: boolean, base: string, root: string): Promise<'refused' | 'contained'> {
  c.before?.(root);
  const before = snapshot(base, root);
  let outcome: 'refused' | 'contained' = 'contained';
  try {
    const tar = await buildTar(c.entries);
    if (worker) await unpackInWorker(Readable.from([zlib.gzipSync(tar)]), root, { whiteouts: mode });
    else await extractLayer(Readable.from(tar), root, { special: linuxSpecialFiles, whiteouts: mode });
  } catch (err) {
    assert.ok(isKind(err, 'InvalidArgument'), `${c.name}: unexpected error ${(err as Error).stack}`);
    assert.match((err as Error).message, /^layer tar: .*: /);
    outcome = 'refused';
  }
  if (outcome === 'contained') c.contained?.(root);
  assert.deepEqual(snapshot(base, root), before, 'something outside the root changed');
  assert.equal(fs.existsSync('/etc/unbroken'), false);
  assert.equal(fs.existsSync('/tmp/breakout-silo'), false);
  return outcome;
}

const names = breakoutCases('/x').map((c) => c.name);
test('the fixture holds all 34 containerd TestBreakouts cases', () => {
  assert.equal(new Set(names).size, 34);
});

for (const [mode, worker] of [['apply', false], ['overlay', false], ['overlay', true]] as const) {
  for (const relative of [false, true]) {
    for (const name of names) {
      const probe = breakoutCases('/x').find((c) => c.name === name)!;
      if (mode === 'overlay' && probe.before) continue; // an overlay layer root is always fresh
      test(`${name}${relative ? ' (relative names)' : ''} [${mode}${worker ? ', layer worker' : ''}] is refused or contained`, async (t) => {
        const { base, root } = setUp();
        try {
          const c0 = breakoutCases(base).find((c) => c.name === name)!;
          const c = relative ? withRelativeNames(c0, base) : c0;
          t.diagnostic(await run(c, mode, worker, base, root));
        } finally {
          fs.rmSync(base, { recursive: true, force: true });
        }
      });
    }
  }
}
