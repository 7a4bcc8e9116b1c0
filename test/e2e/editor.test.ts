// End to end in real VS Code: code-server serves the packaged VSIX, Chromium drives the workbench.
// The user's path: open the example workspace, see Silo's Dockerfile diagnostics in Problems, run a
// container from the Images view (busybox, imported through the CLI first), watch its log stream,
// open its diff (image ↔ container) in the diff editor, and browse the image's layer files. Screenshots go to test-artifacts/e2e/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SiloFixture, repoRoot } from '../fixtures/fixtureSilo';
import { chromiumPath, missingTools, playwright, startCodeServer, type Page } from './editorTools';

const skip = missingTools() ?? (process.getuid?.() !== 0 ? 'running containers needs root' : undefined);
const artifacts = path.join(repoRoot, 'test-artifacts', 'e2e');

function packageVsix(): string {
  // The same packaging users get (scripts/package.mjs), for this machine's target.
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'silo-vsix-')), 'silo.vsix');
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts/package.mjs'), '--offline', '--target', `linux-${process.arch}`, '--out', out], { cwd: repoRoot, stdio: 'inherit' });
  return out;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`) });
}

async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget input').waitFor({ state: 'visible' });
  await page.keyboard.type(title);
  // Click the exact entry: Enter would take whichever similar command ranks first.
  await page.locator('.quick-input-list .monaco-list-row').getByText(title, { exact: true }).first().click();
}

/** A root file system with this host's node binary and the libraries it links, as a tar (an image for the debug step). */
function nodeRootfsTar(): Buffer {
  const dir = mkdtempSync(path.join(tmpdir(), 'silo-e2e-node-'));
  try {
    const node = execFileSync('readlink', ['-f', process.execPath], { encoding: 'utf8' }).trim();
    const libs = [...execFileSync('ldd', [node], { encoding: 'utf8' }).matchAll(/(\/\S+\.so[^\s]*)/g)].map((m) => m[1]);
    for (const f of [node, ...libs]) {
      const target = path.join(dir, f === node ? '/usr/local/bin/node' : f);
      mkdirSync(path.dirname(target), { recursive: true });
      cpSync(f, target, { dereference: true });
    }
    for (const d of ['tmp', 'etc', 'usr/src/app']) mkdirSync(path.join(dir, d), { recursive: true });
    return execFileSync('tar', ['-C', dir, '--numeric-owner', '--owner=0', '--group=0', '-cf', '-', '.'], { maxBuffer: 512 * 1024 * 1024 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function freeTcpPort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Quick Open through F1 (which the terminal never swallows, unlike Ctrl+P): '>' removed, the file name typed. */
async function openFile(page: Page, name: string): Promise<void> {
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget input').waitFor({ state: 'visible' });
  await page.keyboard.press('Backspace');
  await page.keyboard.type(name);
  await page.locator('.quick-input-list .monaco-list-row').getByText(name, { exact: true }).first().click();
}

function extensionHostLog(userDataDir: string): string {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/exthost|Silo|silo/.test(p) && p.endsWith('.log')) out.push(`== ${p}\n${readFileSync(p, 'utf8').slice(-4000)}`);
    }
  };
  try {
    walk(path.join(userDataDir, 'logs'));
  } catch {
    /* no logs yet */
  }
  return out.join('\n');
}

test('the Silo extension in real VS Code: diagnostics, run from the views, live logs, diff', { skip, timeout: 300_000 }, async () => {
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  const silo = new SiloFixture();
  const workspace = mkdtempSync(path.join(tmpdir(), 'silo-e2e-ws-'));
  cpSync(path.join(repoRoot, 'test/fixtures/workspace'), workspace, { recursive: true });
  let server: Awaited<ReturnType<typeof startCodeServer>> | undefined;
  let page: Page | undefined;
  const browser = await playwright().chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    silo.importBusybox();
    silo.ok(['import', '-', 'node-e2e:latest'], { input: nodeRootfsTar(), timeoutMs: 120_000 });
    // The debug step's launch configuration: the workspace's index.js in the node image, on free ports.
    const inspectPort = await freeTcpPort();
    const appPort = await freeTcpPort();
    writeFileSync(
      path.join(workspace, '.vscode', 'launch.json'),
      JSON.stringify({
        version: '0.2.0',
        configurations: [
          { type: 'silo', request: 'launch', name: 'Silo: e2e node', image: 'node-e2e:latest', platform: 'node', containerName: 'e2e-debug', env: [`PORT=${appPort}`], ports: [`127.0.0.1:${appPort}:${appPort}`], node: { program: 'index.js', inspectPort } },
        ],
      }),
    );
    const vsix = packageVsix();
    server = await startCodeServer(vsix, workspace, {
      'silo.dataRoot': silo.root,
      'security.workspace.trust.enabled': false,
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'workbench.enableExperiments': false,
      'telemetry.telemetryLevel': 'off',
      'extensions.ignoreRecommendations': true,
      'update.mode': 'none',
      'chat.disableAIFeatures': true,
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      // The DOM renderer keeps terminal text readable by the test.
      'terminal.integrated.gpuAcceleration': 'off',
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(30_000);
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    await shot(page, '01-workbench');

    // 1. Silo's checks in the Problems panel.
    await openFile(page, 'Dockerfile');
    await page.locator('.monaco-editor .view-lines').first().waitFor({ state: 'visible' });
    await runCommand(page, 'View: Focus Problems');
    await page.locator('.markers-panel .monaco-list-row').getByText(/SILO101/).first().waitFor({ state: 'visible', timeout: 60_000 });
    await shot(page, '02-problems');

    // 2. Run busybox from the Images view, with a command that changes /etc/passwd and ticks.
    await page.locator('.activitybar [aria-label^="Silo"]').first().click();
    const imageRow = page.locator('.monaco-list-row[aria-label*="busybox:latest"]').first();
    await imageRow.waitFor({ state: 'visible' });
    await shot(page, '03-views');
    await imageRow.hover();
    await imageRow.locator('.action-label[aria-label^="Run"]').click();
    // The quick form: one input box after the other; each is answered once its title shows.
    const answer = async (step: string, text: string) => {
      await page!.locator('.quick-input-widget .quick-input-title').getByText(step).first().waitFor({ state: 'visible' });
      if (text) await page!.keyboard.type(text);
      await page!.keyboard.press('Enter');
    };
    await answer('(1/4)', 'e2e-tick');
    await answer('(2/4)', '');
    await answer('(3/4)', '');
    await answer('(4/4)', `sh -c 'echo e2e:x:1000:1000::/tmp:/bin/sh >> /etc/passwd; i=0; while true; do echo tick $i; echo warn $i >&2; i=$((i+1)); sleep 1; done'`);

    // 3. The notification offers the logs; they stream in.
    await page.locator('.notifications-toasts .monaco-button').getByText('Show Logs').first().click();
    // (The editor renders spaces as no-break spaces: match them with \s.)
    await page.locator('.monaco-editor .view-line').getByText(/out│\stick\s2/).first().waitFor({ state: 'visible', timeout: 30_000 });
    const logText = (await page.locator('.monaco-editor .view-lines').first().textContent()) ?? '';
    assert.match(logText, /err│\swarn\s\d/, 'stderr lines are marked apart');
    await shot(page, '04-logs');

    // 4. The container is listed as running; its changes open in the diff editor.
    const containerRow = page.locator('.monaco-list-row[aria-label*="e2e-tick"]').first();
    await containerRow.waitFor({ state: 'visible' });
    // Selecting a container shows its live diff in the Layers view.
    await containerRow.click();
    const changed = page.locator('.monaco-list-row .monaco-icon-label').getByText('/etc/passwd', { exact: true }).first();
    await changed.waitFor({ state: 'visible' });
    await changed.click();
    await page.locator('.monaco-diff-editor').first().waitFor({ state: 'visible' });
    await page.locator('.monaco-diff-editor .modified .view-line').getByText(/e2e:x:1000/).first().waitFor({ state: 'visible' });
    await shot(page, '05-diff');

    // 4b. Selecting the image shows its history in the Layers view; the step that added a layer lists
    // that layer's files, and one opens read-only from the layer (silo://layer/...).
    const viewPane = (title: string) => page!.locator('.pane').filter({ has: page!.locator('.pane-header').filter({ hasText: title }) });
    // (Scoped to the Images view: the container's row names busybox:latest too.)
    await viewPane('Images').locator('.monaco-list-row[aria-label*="busybox:latest"]').first().click();
    const layersPane = viewPane('Layers');
    const layerStep = layersPane.locator('.monaco-list-row[aria-expanded="false"]').first();
    await layerStep.waitFor({ state: 'visible' });
    await layerStep.click();
    // The list is virtual: rows below the fold exist only once scrolled to.
    const layerFile = async (name: string) => {
      const row = layersPane.locator('.monaco-list-row .monaco-icon-label').getByText(name, { exact: true }).first();
      // Steps shorter than the pane, so no row is scrolled past unrendered.
      for (let i = 0; i < 150 && !(await row.isVisible()); i++) {
        await layersPane.locator('.monaco-list').first().hover();
        await page!.mouse.wheel(0, 150);
        await page!.waitForTimeout(100);
      }
      await row.waitFor({ state: 'visible' });
      return row;
    };
    await layerFile('/bin/busybox');
    await shot(page, '05b-layer-files');
    await (await layerFile('/etc/passwd')).click();
    // The preview editor replaces the diff: this text comes from the layer's tar.
    await page.locator('.monaco-diff-editor').first().waitFor({ state: 'hidden' });
    await page.locator('.monaco-editor .view-line').getByText(/nobody:x:65534/).first().waitFor({ state: 'visible' });
    await shot(page, '05c-layer-file-open');

    // 5. A shell in the container: a terminal over the engine's exec with a TTY.
    await runCommand(page, 'Silo Containers: Open Shell');
    await page.locator('.quick-input-list .monaco-list-row[aria-label*="e2e-tick"]').first().waitFor({ state: 'visible' });
    await page.keyboard.press('Enter');
    await page.locator('.terminal-wrapper.active .xterm-rows').first().waitFor({ state: 'visible' });
    await page.waitForTimeout(1000);
    await page.keyboard.type('echo answer=$((6*7)); grep -c e2e /etc/passwd\n');
    await page.locator('.terminal-wrapper.active .xterm-rows').getByText(/answer=42/).first().waitFor({ state: 'visible' });
    await shot(page, '06-shell');

    // 6. The silo-run task of the workspace runs to its end in a task terminal.
    await runCommand(page, 'Tasks: Run Task');
    await page.locator('.quick-input-list .monaco-list-row[aria-label*="silo: tick"]').first().waitFor({ state: 'visible' });
    await page.locator('.quick-input-list .monaco-list-row[aria-label*="silo: tick"]').first().click();
    await page.locator('.terminal-wrapper.active .xterm-rows').getByText(/tick\s4/).first().waitFor({ state: 'visible' });
    await page.locator('.terminal-wrapper.active .xterm-rows').getByText(/tick exited with code 0/).first().waitFor({ state: 'visible' });
    await shot(page, '07-task');

    // 7. silo-build tasks: one image built and listed; a failing RUN put on its Dockerfile line in Problems.
    const runTask = async (label: string) => {
      await runCommand(page!, 'Tasks: Run Task');
      await page!.locator(`.quick-input-list .monaco-list-row[aria-label*="${label}"]`).first().click();
    };
    await runTask('silo: build linux image');
    await page.locator('.terminal-wrapper.active .xterm-rows').getByText(/Successfully tagged example-linux:latest/).first().waitFor({ state: 'visible', timeout: 60_000 });
    await page.locator('.monaco-list-row[aria-label*="example-linux:latest"]').first().waitFor({ state: 'visible' });
    await runTask('silo: build broken image');
    await page.locator('.terminal-wrapper.active .xterm-rows').getByText(/broken\.Dockerfile:3: error:/).first().waitFor({ state: 'visible', timeout: 60_000 });
    await runCommand(page, 'View: Focus Problems');
    // The failing step's line: `[Ln 3, Col 1]` under broken.Dockerfile.
    await page.locator('.markers-panel .monaco-list-row[aria-label*="broken.Dockerfile"]').first().waitFor({ state: 'visible' });
    await page.locator('.markers-panel .monaco-list-row').getByText('[Ln 3, Col 1]').first().waitFor({ state: 'visible' });
    await shot(page, '08-build-problem');

    // 8. Debugging: F5 runs index.js in a container with --inspect published and hands over to js-debug;
    // a breakpoint in the request handler is hit by a request to the published app port.
    await openFile(page, 'index.js');
    await page.locator('.monaco-editor .view-line').getByText(/res\.end/).first().click();
    await page.keyboard.press('F9');
    await runCommand(page, 'Debug: Start Debugging');
    await page.locator('.debug-toolbar').first().waitFor({ state: 'visible', timeout: 60_000 });
    let response: Promise<string> | undefined;
    for (let i = 0; i < 60 && !response; i++) {
      // Until node listens (refused) and js-debug has bound the breakpoint (answered at once), ask again;
      // the request that does not come back within 1.5 s is the one paused at the breakpoint.
      const attempt = fetch(`http://127.0.0.1:${appPort}/from-e2e`).then((r) => r.text());
      const settled = await Promise.race([attempt.then(() => true, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), 1500))]);
      if (!settled) response = attempt;
      else await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(response, 'a request to the published app port stops at the breakpoint');
    await page.locator('.debug-call-stack .monaco-list-row').getByText(/paused on breakpoint/i).first().waitFor({ state: 'visible', timeout: 30_000 });
    await shot(page, '09-debug-breakpoint');
    await page.keyboard.press('F5'); // continue
    assert.match(await response!, /hello from linux at \/from-e2e/);
    await page.keyboard.press('Shift+F5'); // stop: the container goes with the session
    await page.locator('.debug-toolbar').first().waitFor({ state: 'hidden' });
    for (let i = 0; i < 40 && silo.run(['ps', '-a']).stdout.includes('e2e-debug'); i++) await new Promise((r) => setTimeout(r, 250));
    assert.doesNotMatch(silo.run(['ps', '-a']).stdout, /e2e-debug/, 'the debug container is removed when the session ends');

    // 9. The engine dies: the editor says so, starts a new one, and the log goes on without a gap.
    await page.locator('.tab').getByText('e2e-tick.silo-log').first().click();
    const lastTick = async () => Math.max(...[...((await page!.locator('.monaco-editor .view-lines').first().textContent()) ?? '').matchAll(/tick\s(\d+)/g)].map((m) => Number(m[1])));
    // The last line so far, as the engine has it (the editor may be scrolled anywhere).
    const before = Math.max(...[...silo.run(['logs', 'e2e-tick']).stdout.matchAll(/tick (\d+)/g)].map((m) => Number(m[1])));
    const pid = silo.enginePid();
    assert.ok(pid, 'the engine runs');
    process.kill(pid, 'SIGKILL');
    await page.locator('.notifications-toasts').getByText(/The Silo engine stopped; starting it again/).first().waitFor({ state: 'visible' });
    await page.locator('.statusbar-item').getByText(/Silo: Linux/).first().waitFor({ state: 'visible' });
    // Follow keeps the end in view: wait until lines from after the restart show.
    for (let i = 0; i < 60 && (await lastTick()) < before + 3; i++) await new Promise((r) => setTimeout(r, 500));
    assert.ok((await lastTick()) >= before + 3, 'the log goes on after the restart');
    const text = (await page.locator('.monaco-editor .view-lines').first().textContent()) ?? '';
    const seen = [...text.matchAll(/tick\s(\d+)/g)].map((m) => Number(m[1]));
    assert.deepEqual(seen, seen.map((_, i) => seen[0] + i), `no tick is lost or repeated across the restart: ${seen.join(',')}`);
    assert.notEqual(silo.enginePid(), pid, 'a new engine serves the data root');
    await shot(page, '10-engine-restarted');
  } catch (err) {
    if (page) await shot(page, '99-failure').catch(() => undefined);
    if (server) console.error(extensionHostLog(server.userDataDir));
    try {
      console.error(`== engine.log\n${readFileSync(path.join(silo.root, 'engine.log'), 'utf8').slice(-4000)}`);
      console.error(`== data root\n${execFileSync('find', [silo.root, '-maxdepth', '2'], { encoding: 'utf8' })}`);
      console.error(`== silo images\n${silo.run(['images']).stdout}${silo.run(['ps', '-a']).stdout}`);
    } catch {
      /* no engine log */
    }
    throw err;
  } finally {
    await browser.close();
    await server?.stop();
    silo.dispose();
    rmSync(workspace, { recursive: true, force: true });
  }
});

