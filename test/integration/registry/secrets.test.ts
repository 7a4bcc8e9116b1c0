// A known password goes through login, push and pull (and a wrong one through a failed login), and
// never shows up where a user or a log reader would see it: engine.log, the CLI's stdout and stderr,
// error messages, progress notifications.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { SiloFixture, hasTool } from '../../fixtures/fixtureSilo';
import { fixtureDistribution } from '../../fixtures/fixtureDistribution';
import { hasRegistry, startRegistry } from '../../fixtures/fixtureRegistry';
import { fixtureFiles, pushFixtureImage } from '../../fixtures/fixtureRegistryImage';

const skip = !hasRegistry || process.getuid?.() !== 0 ? 'needs root and docker-registry' : false;
const PASSWORD = 'Pw-never-shown-7f3a91';
const WRONG = 'Wrong-pw-never-shown-42c0';
const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** The password in any spelling a leak would take: plain, in basic auth's base64, URL-encoded. */
function leaks(text: string, password: string, user: string): boolean {
  return text.includes(password) || text.includes(Buffer.from(`${user}:${password}`).toString('base64')) || text.includes(encodeURIComponent(password));
}

/** Every log file under the data root (engine.log and any other). */
function logs(root: string): string {
  let all = '';
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(p);
      else if (st?.isFile() && /\.log$|log\.json$/.test(name) && st.size < 16 * 1024 * 1024) all += readFileSync(p, 'utf8');
    }
  };
  walk(root);
  return all;
}

for (const auth of ['htpasswd', 'token'] as const) {
  test(`${auth}: login, push and pull through the CLI never show the password`, { skip: skip || (!hasTool('crun') && 'needs crun') }, async () => {
    const reg = await startRegistry({ auth, users: { frank: PASSWORD } });
    cleanups.push(reg.dispose);
    const silo = new SiloFixture();
    cleanups.push(() => silo.dispose());
    silo.importBusybox();
    const name = `${reg.domain}/sec/busybox:1`;
    silo.ok(['tag', 'busybox:latest', name]);
    const outputs: string[] = [];
    // Asynchronous: the token server runs in this process and must keep answering meanwhile.
    const run = (args: string[], input?: string) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const p = silo.spawn(args);
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.stdin.end(input ?? '');
      p.on('close', (code) => {
        outputs.push(stdout, stderr);
        resolve({ code: code ?? -1, stdout, stderr });
      });
    });

    const wrong = await run(['login', '-u', 'frank', '--password-stdin', reg.domain], `${WRONG}\n`);
    assert.notEqual(wrong.code, 0);
    assert.ok(wrong.stderr.trim().length > 0, 'a failed login says why');
    assert.equal((await run(['login', '-u', 'frank', '--password-stdin', reg.domain], `${PASSWORD}\n`)).code, 0);
    assert.equal((await run(['push', name])).code, 0);
    await run(['rmi', name]);
    assert.equal((await run(['pull', name])).code, 0);
    // A pull of something missing fails with an error message that passes through the auth path.
    assert.notEqual((await run(['pull', `${reg.domain}/sec/missing:1`])).code, 0);
    assert.equal((await run(['logout', reg.domain])).code, 0);

    const seen = outputs.join('\n');
    for (const pw of [PASSWORD, WRONG]) {
      assert.ok(!leaks(seen, pw, 'frank'), 'the CLI output holds no password');
      assert.ok(!leaks(logs(silo.root), pw, 'frank'), 'no log under the data root holds a password');
    }
    assert.ok(existsSync(path.join(silo.root, 'engine.log')));
  });
}

test('service: errors and progress notifications of login, push and pull never hold the password', { skip }, async () => {
  const reg = await startRegistry({ auth: 'token', users: { gina: PASSWORD } });
  cleanups.push(reg.dispose);
  await pushFixtureImage(reg.domain, 'sec/app', '1', [{ layers: [fixtureFiles('s', 2, 4096)] }], { username: 'gina', password: PASSWORD });
  const e = fixtureDistribution();
  cleanups.push(e.cleanup);
  const seen: string[] = [];
  const record = (x: unknown) => seen.push(JSON.stringify(x));
  const failure = async (p: Promise<unknown>) => {
    const err = await p.then(() => undefined, (x: unknown) => x as Error & { hint?: string; line?: string });
    assert.ok(err, 'expected a failure');
    seen.push(err.message, String(err.hint), String(err.line), String(err.stack));
  };
  await failure(e.distribution.login(reg.domain, 'gina', WRONG));
  await e.distribution.login(reg.domain, 'gina', PASSWORD);
  await e.distribution.pull(`${reg.domain}/sec/app:1`, { onProgress: record });
  await e.service.tag(`${reg.domain}/sec/app:1`, `${reg.domain}/sec/copy:1`);
  await e.distribution.push(`${reg.domain}/sec/copy:1`, { onProgress: record });
  await failure(e.distribution.pull(`${reg.domain}/sec/none:1`, { onProgress: record }));
  // Per-request credentials (the Docker API's X-Registry-Auth) that are wrong: same rule.
  await e.distribution.logout(reg.domain);
  await failure(e.distribution.pull(`${reg.domain}/sec/app:1`, { auth: { username: 'gina', password: WRONG }, onProgress: record }));
  assert.ok(seen.some((s) => s.includes('"phase"')), 'progress was recorded');
  for (const pw of [PASSWORD, WRONG]) assert.ok(!leaks(seen.join('\n'), pw, 'gina'), 'no error or progress holds a password');
});
