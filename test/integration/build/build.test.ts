// `silo build` for real over busybox: each image is checked by running it.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
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
  assert.equal((again.match(/Using cache/g) ?? []).length, 9);
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
  assert.doesNotMatch(silo.ok(['ps', '-a', '--no-trunc']), /exit 7/);
  assert.notEqual(silo.run(['image', 'inspect', 'failing']).code, 0);
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
