// Which host paths a Windows container may bind (the Windows platform's checkBindSource).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { windowsBindSource } from '../../../engine/src/platform/windows';

const fakeStat = (entries: Record<string, 'dir' | 'file'>) => (p: string) => {
  const kind = entries[p];
  if (!kind) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  return { isDirectory: () => kind === 'dir' };
};

test('a directory with its drive and a named pipe bind; a file, a missing path or a path without a drive do not', () => {
  const stat = fakeStat({ 'C:\\data': 'dir', 'D:\\app\\web.config': 'file' });
  windowsBindSource('C:\\data', stat);
  windowsBindSource('\\\\.\\pipe\\docker_engine', stat);
  windowsBindSource('//./pipe/x', stat);
  assert.throws(() => windowsBindSource('D:\\app\\web.config', stat), /is a file: Windows containers bind directories only/);
  assert.throws(() => windowsBindSource('C:\\missing', stat), /bind source path does not exist: C:\\missing/);
  assert.throws(() => windowsBindSource('\\data', stat), /must be an absolute path with its drive/);
  assert.throws(() => windowsBindSource('data', stat), /must be an absolute path with its drive/);
});
