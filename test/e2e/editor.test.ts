// End to end in real VS Code: code-server serves the packaged VSIX, Chromium drives the workbench.
// The user's path: open the example workspace, see Silo's Dockerfile diagnostics in Problems, run a
// container from the Images view (busybox, imported through the CLI first), watch its log stream,
// and open its diff (image ↔ container) in the diff editor. Screenshots go to test-artifacts/e2e/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SiloFixture, repoRoot } from '../fixtures/fixtureSilo';
import { chromiumPath, missingTools, playwright, startCodeServer, type Page } from './editorTools';

const skip = missingTools() ?? (process.getuid?.() !== 0 ? 'running containers needs root' : undefined);
const artifacts = path.join(repoRoot, 'test-artifacts', 'e2e');

function packageVsix(): string {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'silo-vsix-')), 'silo.vsix');
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts/build.mjs')], { cwd: repoRoot, stdio: 'inherit' });
  execFileSync(path.join(repoRoot, 'node_modules/.bin/vsce'), ['package', '--allow-missing-repository', '--skip-license', '-o', out], { cwd: repoRoot, stdio: 'ignore' });
  return out;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`) });
}

async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget input').waitFor({ state: 'visible' });
  await page.keyboard.type(title);
  await page.locator(`.quick-input-list .monaco-list-row[aria-label*="${title}"]`).first().waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
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
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(30_000);
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    await shot(page, '01-workbench');

    // 1. Silo's checks in the Problems panel.
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').waitFor({ state: 'visible' });
    await page.keyboard.type('Dockerfile');
    await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ state: 'visible' });
    await page.keyboard.press('Enter');
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
    await page.locator('.monaco-editor .view-line').getByText(/out│\stick\s\d+/).first().waitFor({ state: 'visible', timeout: 30_000 });
    const logText = (await page.locator('.monaco-editor .view-lines').first().textContent()) ?? '';
    assert.match(logText, /err│\swarn\s\d/, 'stderr lines are marked apart');
    await shot(page, '04-logs');

    // 4. The container is listed as running; its changes open in the diff editor.
    const containerRow = page.locator('.monaco-list-row[aria-label*="e2e-tick"]').first();
    await containerRow.waitFor({ state: 'visible' });
    // Selecting a container shows its live diff in the Layers view.
    await containerRow.click();
    const changed = page.locator('.monaco-list-row[aria-label*="/etc/passwd"]').first();
    await changed.waitFor({ state: 'visible' });
    await changed.click();
    await page.locator('.monaco-diff-editor').first().waitFor({ state: 'visible' });
    await page.locator('.monaco-diff-editor .modified .view-line').getByText(/e2e:x:1000/).first().waitFor({ state: 'visible' });
    await shot(page, '05-diff');
  } catch (err) {
    if (page) await shot(page, '99-failure').catch(() => undefined);
    if (server) console.error(extensionHostLog(server.userDataDir));
    throw err;
  } finally {
    await browser.close();
    await server?.stop();
    silo.dispose();
    rmSync(workspace, { recursive: true, force: true });
  }
});

