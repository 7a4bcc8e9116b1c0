// The extension in a real VS Code downloaded by @vscode/test-electron: it activates, registers every
// command it contributes, and its Containers view lists a container of a running engine. Opt-in
// (SILO_VSCODE_DOWNLOAD=1): downloading VS Code needs network access, which this suite's default
// runs (`node scripts/test.mjs`) do not have. See README.md.
import { test } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { runTests } from '@vscode/test-electron';
import { SiloFixture, repoRoot } from '../fixtures/fixtureSilo';

const skip =
  process.env.SILO_VSCODE_DOWNLOAD !== '1'
    ? 'extension-host tests download VS Code: set SILO_VSCODE_DOWNLOAD=1 where the network allows it'
    : process.getuid?.() !== 0
      ? 'running containers needs root'
      : process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY
        ? 'VS Code needs a display: run under `xvfb-run -a`'
        : undefined;

const CONTAINER = 'ext-host-sleeper';

test('in VS Code: activation, every command registered, the Containers view filled from the engine', { skip, timeout: 600_000 }, async () => {
  const silo = new SiloFixture();
  const tmp = mkdtempSync(path.join(tmpdir(), 'silo-ext-host-'));
  try {
    silo.importBusybox();
    silo.ok(['run', '-d', '--name', CONTAINER, 'busybox', 'sleep', '600']);
    // The suite runs inside the extension host, which loads plain CommonJS: bundle it (vscode stays external).
    const suite = path.join(tmp, 'suite', 'index.js');
    await build({ entryPoints: [path.join(__dirname, 'suite', 'index.ts')], outfile: suite, bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'] });
    // The data root is a user setting: it is restricted in untrusted workspaces (package.json capabilities).
    const userData = path.join(tmp, 'user-data');
    mkdirSync(path.join(userData, 'User'), { recursive: true });
    writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify({ 'silo.dataRoot': silo.root, 'security.workspace.trust.enabled': false, 'update.mode': 'none' }));
    const workspace = path.join(tmp, 'workspace');
    mkdirSync(workspace);
    await runTests({
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: suite,
      cachePath: path.join(repoRoot, 'test-artifacts', 'vscode-test'),
      timeout: 60_000,
      launchArgs: [workspace, '--user-data-dir', userData, '--extensions-dir', path.join(tmp, 'extensions'), '--disable-extensions', '--disable-gpu', '--no-sandbox'],
      extensionTestsEnv: { SILO_EXT_TEST_CONTAINER: CONTAINER },
    });
  } finally {
    silo.dispose();
    rmSync(tmp, { recursive: true, force: true });
  }
});
