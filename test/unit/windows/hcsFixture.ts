// Builds the C test fixtures of test/fixtures/hcs/ (fixture_computecore.c stands in for
// computecore.dll, fixture_vmcompute.c for vmcompute.dll's layer functions, fixture_computenetwork.c
// for computenetwork.dll, fixture_win32files.c for kernel32's file and advapi32's privilege
// functions) with the system C compiler, once per test file. The computecore fixture comes with its
// daemon, fixture_hcsd (the vmcompute.exe stand-in that owns compute systems and processes, so they
// outlive the process that made them), started here on hcsd.sock beside the library.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const fixtures = path.resolve(__dirname, '../../fixtures/hcs');
export const compiler = ['cc', 'gcc', 'clang'].find((c) => spawnSync(c, ['--version']).status === 0);
/** The fixture is POSIX C (pipes, pthreads); on Windows the real DLLs are tested instead (test/contract/windows). */
export const skipWithoutCompiler: false | string =
  process.platform === 'win32' ? 'the HCS fixture is POSIX-only; test/contract/windows covers the real DLLs' : compiler ? false : 'no C compiler on this machine to build the HCS fixture';

/** Compiles the fixture into a new temporary folder; returns the library path and a cleanup. */
export function buildHcsFixture(name: 'computecore' | 'vmcompute' | 'computenetwork' | 'win32files' = 'computecore'): { lib: string; daemonPid?: number; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `silo-${name}-fixture-`));
  const lib = path.join(dir, `libfixture_${name}.so`);
  const r = spawnSync(compiler!, ['-shared', '-fPIC', '-pthread', '-O1', '-o', lib, path.join(fixtures, `fixture_${name}.c`)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the ${name} fixture did not compile:\n${r.stderr}`);
  if (name !== 'computecore') return { lib, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
  const daemon = path.join(dir, 'fixture_hcsd');
  const d = spawnSync(compiler!, ['-pthread', '-O1', '-o', daemon, path.join(fixtures, 'fixture_hcsd.c')], { encoding: 'utf8' });
  if (d.status !== 0) throw new Error(`the HCS daemon fixture did not compile:\n${d.stderr}`);
  // It binds the socket, then daemonizes and prints its pid; removing the folder ends it too.
  const started = spawnSync(daemon, [path.join(dir, 'hcsd.sock')], { encoding: 'utf8' });
  const daemonPid = Number(started.stdout.trim());
  if (started.status !== 0 || !daemonPid) throw new Error(`the HCS daemon fixture did not start:\n${started.stderr}`);
  return {
    lib,
    daemonPid,
    cleanup: () => {
      try {
        process.kill(daemonPid, 'SIGKILL');
      } catch {
        // already gone
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
