// The monitor launcher (silo-monitor --launcher) against the real monitor binary: what it answers for a
// monitor that cannot start, that such a monitor is gone by then, and how it fails when it cannot run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { isKind } from '../../../engine/src/errors';
import { findMonitor } from '../../../engine/src/platform/linux/host';
import { LauncherUnavailable, MonitorLauncher } from '../../../engine/src/platform/linux/monitorLauncher';
import { ensureBuilt } from '../../fixtures/fixtureSilo';

const skip = process.platform !== 'linux' && 'the monitor is Linux-only';

function monitorPath(): string {
  ensureBuilt();
  const p = findMonitor();
  assert.ok(p, 'dist/silo-monitor is built');
  return p!;
}

/** A process that has exited and been reaped leaves no /proc entry (a zombie would). */
const gone = (pid: number) => !existsSync(`/proc/${pid}`);

test('a monitor that cannot start: its error and exit code come back, once it is gone', { skip }, async () => {
  const dir = mkdtempSync('/tmp/silo-launcher-');
  try {
    const launcher = new MonitorLauncher(monitorPath());
    const log = path.join(dir, 'monitor.log');
    // Missing --runtime and the rest: the monitor reports the error on fd 3 and exits 125.
    const one = await launcher.launch(['create', '--id', 'x'], log);
    assert.ok(one.monitorPid > 0);
    assert.deepEqual(JSON.parse(one.report), { error: 'missing one of --id --runtime --runtime-root --log --exit --socket', exitCode: 125 });
    assert.ok(gone(one.monitorPid), 'answered only after the monitor exited (and was reaped)');
    assert.match(readFileSync(log, 'utf8'), /silo-monitor: missing one of/, "the monitor's stderr is the monitor log");
    // Several at once are told apart.
    const many = await Promise.all([1, 2, 3].map((i) => launcher.launch(['bogus-mode', String(i)], log)));
    for (const m of many) assert.match(JSON.parse(m.report).error, /unknown mode bogus-mode/);
    assert.equal(new Set(many.map((m) => m.monitorPid)).size, 3);
    // A log that cannot be opened is the launcher's own error, no monitor forked.
    const noLog = await launcher.launch(['create'], path.join(dir, 'missing', 'monitor.log'));
    assert.equal(noLog.monitorPid, 0);
    assert.match(JSON.parse(noLog.report).error, /cannot open .*missing\/monitor\.log/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a binary that is no launcher: LauncherUnavailable, so the caller spawns monitors itself', { skip }, async () => {
  const launcher = new MonitorLauncher('/bin/false');
  await assert.rejects(launcher.launch(['create'], '/dev/null'), LauncherUnavailable);
  await assert.rejects(launcher.launch(['create'], '/dev/null'), LauncherUnavailable, 'and it is not tried again');
});

test('an argument with a NUL byte is refused before anything starts', { skip }, async () => {
  const launcher = new MonitorLauncher(monitorPath());
  await assert.rejects(launcher.launch(['create', 'a\0b'], '/dev/null'), (err: unknown) => isKind(err, 'InvalidArgument'));
});
