// `silo build` for real over busybox: each image is checked by running it.
import { test, after, before } from 'node:test';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { gzipSync } from 'node:zlib';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SiloFixture, repoRoot } from '../../fixtures/fixtureSilo';

const corpus = path.join(repoRoot, 'test/fixtures/dockerfiles-build');
let silo: SiloFixture;

/** A private copy of a corpus folder, so a test can edit files. */
function copyOf(name: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `silo-build-${name}-`));
  cpSync(path.join(corpus, name), dir, { recursive: true });
  return dir;
}

function engineLogTail(): string {
  try {
    return readFileSync(path.join(silo.root, 'engine.log'), 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no engine.log)';
  }
}

before(() => {
  silo = new SiloFixture();
  silo.importBusybox();
});
after(() => silo.dispose());

test('a Dockerfile with ARG, ENV, WORKDIR, COPY, USER builds, and its image runs', () => {
  const dir = copyOf('basic');
  const out = silo.ok(['build', '-t', 'basic', dir]);
  assert.match(out, /Step 1\/11 : FROM \$BASE/);
  assert.match(out, / ---> Running in [0-9a-f]{12}/);
  assert.match(out, /Successfully tagged basic:latest/);
  assert.equal(silo.ok(['run', '--rm', 'basic']), 'hi\n1000\na.txt\nb.txt\n');
  assert.equal(silo.ok(['run', '--rm', '--user', '0', 'basic', 'stat', '-c', '%a %u', '/bin/a-copy']), '700 0\n');
  // .dockerignore'd files are never copied.
  assert.notEqual(silo.run(['run', '--rm', 'basic', 'ls', '/app/ignored.txt']).code, 0);
});

test('a rebuild is fully cached; a changed file or ARG says why it missed', () => {
  const dir = copyOf('basic');
  silo.ok(['build', '-t', 'c1', dir]);
  const again = silo.ok(['build', '-t', 'c1', dir]);
  assert.equal((again.match(/Using cache/g) ?? []).length, 10);
  assert.doesNotMatch(again, /Running in/);
  writeFileSync(path.join(dir, 'src/b.txt'), 'changed\n');
  writeFileSync(path.join(dir, 'ignored.txt'), 'ignored files never bust the cache\n');
  const changed = silo.ok(['build', '-t', 'c1', dir]);
  assert.match(changed, /COPY src\/ \.\/src\/\n ---> Cache miss: file changed: src\/b\.txt/);
  const arg = silo.ok(['build', '--build-arg', 'GREETING=hey', '-t', 'c1', dir]);
  assert.match(arg, /RUN echo "\$GREETING".*\n ---> Cache miss: build arg GREETING changed \(hi -> hey\)/);
  assert.equal(silo.ok(['run', '--rm', 'c1', 'cat', '/app/greeting']), 'hey\n');
  const none = silo.ok(['build', '--no-cache', '-t', 'c1', dir]);
  assert.doesNotMatch(none, /Using cache/);
});

test('multi-stage: the target needs only its stages; --target stops early', () => {
  const dir = copyOf('multistage');
  const out = silo.ok(['build', '-t', 'multi', dir]);
  assert.doesNotMatch(out, /exit 3/);
  assert.equal(silo.ok(['run', '--rm', 'multi']), 'one\ntwo\n');
  silo.ok(['build', '--target', 'two', '-t', 'just-two', dir]);
  assert.equal(silo.ok(['run', '--rm', 'just-two', 'cat', '/two']), 'two\n');
  const bad = silo.run(['build', '--target', 'nope', dir]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /failed to reach build target nope/);
});

test('heredocs and ONBUILD triggers', () => {
  const dir = copyOf('heredoc-onbuild');
  silo.ok(['build', '-t', 'parent', dir]);
  silo.ok(['build', '-t', 'child', '-f', path.join(dir, 'Dockerfile.child'), dir]);
  assert.equal(silo.ok(['run', '--rm', 'child']), 'triggered\nline1\nline2\nfrom a heredoc\n');
});

test('a failing RUN names file:line, the exit code and the last output, and leaves no container', () => {
  const dir = copyOf('failing');
  const r = silo.run(['build', '-t', 'failing', dir]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Dockerfile:3: The command '.*' returned a non-zero code: 7/);
  assert.match(r.stderr, /to stderr/);
  // The step container is removed before the error is sent, so no wait is needed here; a removal
  // that failed is part of the error (and would be a real leak), so it is checked, not tolerated.
  assert.doesNotMatch(r.stderr, /could not be removed/);
  const stepIds = [...r.stdout.matchAll(/Running in ([0-9a-f]{12})/g)].map((m) => m[1]);
  assert.equal(stepIds.length, 2, r.stdout);
  const ps = silo.ok(['ps', '-a', '--no-trunc']);
  const left = ps.split('\n').filter((l) => stepIds.some((id) => l.startsWith(id)));
  assert.deepEqual(left, [], `step containers left behind:\n${ps}\nbuild stderr:\n${r.stderr}\nengine.log:\n${engineLogTail()}`);
  assert.notEqual(silo.run(['image', 'inspect', 'failing']).code, 0);
});

test('rebuilds leave no <none> intermediate image in `images` (they show with -a)', () => {
  const dir = copyOf('basic');
  silo.ok(['build', '-t', 'inter', dir]);
  silo.ok(['build', '--no-cache', '-t', 'inter', dir]);
  writeFileSync(path.join(dir, 'src/a.txt'), 'edited\n');
  silo.ok(['build', '-t', 'inter', dir]);
  silo.ok(['build', '--no-cache', '-t', 'inter', dir]);
  const shown = silo.ok(['images']);
  assert.doesNotMatch(shown, /<none>/, shown);
  assert.match(silo.ok(['images', '-a']), /<none>/);
});

test('bad input: unknown instruction, missing COPY source, unknown stage', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'silo-build-bad-'));
  const cases: Array<[string, RegExp]> = [
    ['FROM busybox\nRUNN echo\n', /Dockerfile:2: unknown instruction: RUNN/],
    ['FROM busybox\nCOPY nothere /x\n', /Dockerfile:2: COPY failed: file not found in build context/],
    ['FROM busybox\nCOPY --from=ghost /x /x\n', /Dockerfile:2: invalid from flag value ghost/],
    ['FROM busybox\nCOPY ../outside /x\n', /file not found in build context/],
  ];
  for (const [text, re] of cases) {
    writeFileSync(path.join(dir, 'Dockerfile'), text);
    const r = silo.run(['build', dir]);
    assert.notEqual(r.code, 0, text);
    assert.match(r.stderr, re, text);
  }
});

test('wildcards, COPY --chown by name, ADD of a local tar (plain and gzip): the built image shows them', () => {
  assert.equal(silo.ok(['build', '-q', '-t', 'wild', copyOf('wildcard')]).length > 0, true);
  assert.equal(silo.ok(['run', '--rm', 'wild']), '/many:\nc.md\nd.txt\n\n/one:\na.txt\nb.txt\n\n/rel:\na.txt\nb.txt\n\n/w:\na.txt\nb.txt\n');
  silo.ok(['build', '-q', '-t', 'owned', copyOf('chown-name')]);
  const owners = silo.ok(['run', '--rm', 'owned', 'sh', '-c', 'stat -c "%n %u:%g %a" /owned /owned/both /owned/user-only /owned/dir /owned/dir/a.txt']);
  // A user alone names the group too (group "app", 4321); new parents take the --chown owner.
  assert.equal(owners, '/owned 1234:2345 755\n/owned/both 1234:2345 644\n/owned/user-only 1234:4321 644\n/owned/dir 1234:3456 755\n/owned/dir/a.txt 1234:3456 644\n');
  const dir = copyOf('add-tar');
  const tar = execFileSync('sh', ['-c', 'd=$(mktemp -d) && mkdir -p $d/in/deep && echo one > $d/in/one && echo two > $d/in/deep/two && ln -s one $d/in/link && tar -C $d -cf - in && rm -rf $d']);
  writeFileSync(path.join(dir, 'files.tar'), tar);
  writeFileSync(path.join(dir, 'files.tar.gz'), gzipSync(tar));
  silo.ok(['build', '-q', '-t', 'tars', dir]);
  const found = silo.ok(['run', '--rm', 'tars', 'sh', '-c', 'cat /plain/in/deep/two /gz/in/link; readlink /plain/in/link; ls /copied']);
  assert.equal(found, 'two\none\none\nfiles.tar\n');
});

test('ADD of an http URL: the file, named after the URL, mode 600, mtime from Last-Modified; a 404 fails at its line', async () => {
  // The server is its own process: the CLI runs through spawnSync, which blocks this one.
  const server = spawn(process.execPath, ['-e', `
    const s = require('node:http').createServer((req, res) => {
      if (req.url !== '/hello.txt') return void res.writeHead(404).end();
      res.writeHead(200, { 'Last-Modified': 'Tue, 03 Mar 2020 10:00:00 GMT' }).end('hello over http\\n');
    });
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [port] = (await once(server.stdout!, 'data')) as [Buffer];
    const url = `http://127.0.0.1:${port.toString().trim()}`;
    silo.ok(['build', '-q', '--build-arg', `URL=${url}`, '-t', 'web', copyOf('url')]);
    assert.equal(silo.ok(['run', '--rm', 'web', 'sh', '-c', 'cat /web/hello.txt; stat -c "%a %Y" /web/hello.txt /web/renamed.txt']), 'hello over http\n600 1583229600\n600 1583229600\n');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'silo-build-url-'));
    writeFileSync(path.join(dir, 'Dockerfile'), `FROM busybox\nADD ${url}/missing.txt /x\n`);
    const r = silo.run(['build', dir]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Dockerfile:2: ADD failed: GET .*\/missing\.txt returned status 404/);
  } finally {
    server.kill();
  }
});

test('Ctrl-C during a RUN: exit 130, the step container is gone, no image is tagged', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'silo-build-cancel-'));
  writeFileSync(path.join(dir, 'Dockerfile'), 'FROM busybox\nENV STEP=one\nRUN echo started && sleep 60\nCMD ["true"]\n');
  const child = silo.spawn(['build', '-t', 'canceled', dir]);
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const started = Date.now();
  while (!/^started$/m.test(out)) {
    assert.ok(Date.now() - started < 60_000, `the RUN never started: ${out}${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const stepId = /Running in ([0-9a-f]{12})/.exec(out)![1];
  child.kill('SIGINT');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 130, `${out}${err}`);
  assert.match(err, /the build was canceled/);
  assert.ok(Date.now() - started < 30_000, 'the sleep was not stopped');
  const ps = silo.ok(['ps', '-a', '--no-trunc']);
  assert.ok(!ps.split('\n').some((l) => l.startsWith(stepId)), `step container left behind:\n${ps}`);
  assert.notEqual(silo.run(['image', 'inspect', 'canceled']).code, 0);
  assert.doesNotMatch(silo.ok(['images']), /<none>|canceled/);
});

test('a Windows Dockerfile on this engine: cmd /S /C, WORKDIR on C:, destinations on C:, no scratch, RUN needs a Windows host', () => {
  // A Windows base image made locally: a docker-archive whose config says windows, loaded with `silo load`.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'silo-build-win-'));
  execFileSync('sh', ['-c', `set -e; cd ${dir}; mkdir -p l/Files; echo hi > l/Files/readme.txt; tar -C l -cf layer.tar Files
    D=$(sha256sum layer.tar | cut -d' ' -f1)
    printf '{"architecture":"amd64","os":"windows","os.version":"10.0.20348.2227","config":{"Cmd":["cmd.exe"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"Apply image 10.0.20348.2227"}]}' $D > config.json
    C=$(sha256sum config.json | cut -d' ' -f1); mv config.json $C.json; mkdir $D; mv layer.tar $D/
    printf '[{"Config":"%s.json","RepoTags":["winbase:ltsc2022"],"Layers":["%s/layer.tar"]}]' $C $D > manifest.json
    tar -cf image.tar manifest.json $C.json $D`]);
  silo.ok(['load', '-i', path.join(dir, 'image.tar')]);
  const ctx = mkdtempSync(path.join(os.tmpdir(), 'silo-build-winctx-'));
  const build = (text: string) => {
    writeFileSync(path.join(ctx, 'Dockerfile'), text);
    return silo.run(['build', '-t', 'winapp', ctx]);
  };
  const ok = build('FROM winbase:ltsc2022\nENV APP=1\nWORKDIR app\nWORKDIR logs\nCMD echo %APP%\n');
  assert.equal(ok.code, 0, ok.stderr);
  const [img] = JSON.parse(silo.ok(['image', 'inspect', 'winapp'])) as Array<{ Os: string; Config: { Env: string[]; Cmd: string[]; WorkingDir: string } }>;
  assert.equal(img.Os, 'windows');
  assert.deepEqual(img.Config.Env, ['APP=1'], 'no Linux PATH on a Windows image');
  assert.deepEqual(img.Config.Cmd, ['cmd', '/S', '/C', 'echo %APP%']);
  assert.equal(img.Config.WorkingDir, 'C:\\app\\logs');
  assert.match(silo.ok(['history', '--no-trunc', 'winapp']), /cmd \/S \/C #\(nop\)  CMD \["cmd" "\/S" "\/C" "echo %APP%"\]/);
  const cases: Array<[string, RegExp]> = [
    ['FROM winbase:ltsc2022\nCOPY Dockerfile D:\\\\x\n', /Dockerfile:2: Windows does not support D:\\x as a destination: it is not on the system drive \(C:\)/],
    ['FROM --platform=windows scratch\n', /Dockerfile:1: Windows does not support FROM scratch/],
    ['FROM winbase:ltsc2022\nRUN echo hi\n', /Dockerfile:2: RUN needs a windows container and this engine runs linux containers/],
    ['FROM winbase:ltsc2022\nCOPY --chmod=755 Dockerfile C:\\\\x\n', /Dockerfile:2: --chmod is not supported when building Windows images/],
  ];
  for (const [text, re] of cases) {
    const r = build(text);
    assert.notEqual(r.code, 0, text);
    assert.match(r.stderr, re, text);
  }
  assert.equal(silo.ok(['ps', '-aq']), '');
});
