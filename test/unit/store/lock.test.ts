import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { once } from 'node:events';
import * as os from 'node:os';
import * as path from 'node:path';
import { lock, tryLock, withLock } from '../../../engine/src/store/lock';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'silo-lock-'));
const repo = path.resolve(__dirname, '../../..');

/** A child process that takes the lock, prints "locked", and holds it until killed. */
function holder(lockPath: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', `
    const { tryLock } = require(${JSON.stringify(path.join(repo, 'engine/src/store/lock.ts'))});
    tryLock(${JSON.stringify(lockPath)}).then((l) => { console.log(l ? 'locked' : 'busy'); setInterval(() => {}, 1000); });
  `], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  return { child, line };
}

test('a lock excludes a second holder in the same process', async () => {
  const p = path.join(tmp(), 'x.lock');
  const a = await tryLock(p);
  assert.ok(a);
  assert.equal(await tryLock(p), undefined);
  await a.release();
  const b = await tryLock(p);
  assert.ok(b);
  await b.release();
});

test('withLock serialises critical sections', async () => {
  const p = path.join(tmp(), 'x.lock');
  const order: string[] = [];
  await Promise.all(
    [1, 2, 3].map((n) =>
      withLock(p, async () => {
        order.push(`in${n}`);
        await new Promise((r) => setTimeout(r, 20));
        order.push(`out${n}`);
      }),
    ),
  );
  for (let i = 0; i < order.length; i += 2) assert.equal(order[i].slice(2), order[i + 1].slice(3));
});

test('a lock held by another process excludes us, and is free once that process is killed', async () => {
  const p = path.join(tmp(), 'x.lock');
  const h = holder(p);
  assert.equal(await h.line, 'locked');
  assert.equal(await tryLock(p), undefined);
  await assert.rejects(lock(p, { timeoutMs: 100, what: 'the test store' }), (err: Error & { kind?: string }) => {
    assert.equal(err.kind, 'Unavailable');
    assert.match(err.message, new RegExp(`the test store is locked by process ${h.child.pid}`));
    return true;
  });
  h.child.kill('SIGKILL');
  await once(h.child, 'exit');
  const l = await tryLock(p);
  assert.ok(l, 'lock free after SIGKILL: the kernel released it');
  await l.release();
});

test('release with remove lets a waiter retry on the new file rather than hold a deleted one', async () => {
  const p = path.join(tmp(), 'x.lock');
  const a = await lock(p);
  const waiting = lock(p, { timeoutMs: 5000 });
  await new Promise((r) => setTimeout(r, 50));
  await a.release({ remove: true });
  const b = await waiting;
  assert.equal(await tryLock(p), undefined, 'the waiter holds the lock at the path that exists now');
  await b.release();
});
