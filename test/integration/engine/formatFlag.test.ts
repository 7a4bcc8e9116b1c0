// `--format` on inspect, ps and images, `ps --filter/-n/-l` and `images --filter`, with the docker CLI as the oracle: the
// same command run by `silo` and by `docker` (its own template engine, through Silo's Docker API on the
// same data root) prints the same text.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { SiloFixture } from '../../fixtures/fixtureSilo';
import { DOCKER_CLIENT } from '../../fixtures/fixtureDockerd';

const skip = process.getuid?.() !== 0 ? 'needs root' : !existsSync(DOCKER_CLIENT) ? 'docker CLI missing' : false;
let silo: SiloFixture;
let dockerHost: string;

before(() => {
  if (skip) return;
  silo = new SiloFixture();
  silo.importBusybox();
  dockerHost = /^export DOCKER_HOST=(.+)$/.exec(silo.ok(['docker-env']).trim())![1];
  silo.ok(['run', '-d', '--name', 'fmt-web', '-e', 'GREETING=hi there', '-p', '127.0.0.1:18089:80', 'busybox', 'sleep', '300']);
  silo.ok(['run', '--name', 'fmt-done', 'busybox', 'true']);
  silo.ok(['commit', 'fmt-done']); // an image without a name: dangling
  silo.ok(['tag', 'busybox', 'extra/busybox:v1']);
});
after(() => silo?.dispose());

function docker(args: string[]): string {
  const r = spawnSync(DOCKER_CLIENT, args, { env: { ...process.env, DOCKER_HOST: dockerHost, TZ: 'UTC' }, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout.toString();
}

const same = (args: string[]) => assert.equal(silo.ok(args), docker(args), args.join(' '));

/**
 * The same lines in any order (after a table's header): the docker CLI lists the repositories of one image in Go
 * map order (cli/command/formatter/image.go ranges over a map), which changes from run to run.
 */
function sameLines(args: string[]): void {
  const table = args.some((a) => a.startsWith('table'));
  const lines = (out: string) => {
    const all = out.split('\n');
    return table ? [all[0], ...all.slice(1).sort()] : all.sort();
  };
  assert.deepEqual(lines(silo.ok(args)), lines(docker(args)), args.join(' '));
}

test('inspect -f prints what docker inspect -f prints, for containers and images', { skip }, () => {
  for (const t of [
    '{{.Name}} {{.State.Status}} {{.State.Running}} {{.State.ExitCode}} {{.RestartCount}}',
    '{{json .Config.Cmd}} {{json .Config.Entrypoint}} {{.Config.Image}}',
    '{{range .Config.Env}}[{{.}}]{{end}}',
    '{{if .State.Running}}up{{else}}down{{end}} {{len .Mounts}} {{.HostConfig.NetworkMode}}',
    '{{printf "%s:%v" .Name .Config.Tty}} {{upper .State.Status}} {{join .Config.Cmd "+"}}',
    '{{range $p, $b := .NetworkSettings.Ports}}{{$p}}->{{(index $b 0).HostIp}}:{{(index $b 0).HostPort}}{{end}}',
  ]) {
    same(['inspect', '-f', t, 'fmt-web', 'fmt-done']);
  }
  for (const t of ['{{.Id}} {{.Os}} {{.Architecture}} {{.Size}}', '{{json .RootFS.Layers}} {{join .RepoTags ","}}', '{{.Config.Cmd}}']) {
    same(['inspect', '--format', t, 'busybox']);
  }
});

test('ps and images --format print what docker prints: per row, and as a table', { skip }, () => {
  same(['ps', '-a', '--format', '{{.ID}} {{.Image}} {{.Command}} {{.Names}} {{.State}} {{.Ports}} {{.CreatedAt}}']);
  same(['ps', '-a', '--no-trunc', '--format', '{{.ID}}|{{.Command}}']);
  same(['ps', '-a', '--format', 'table {{.ID}}\\t{{.Names}}\\t{{.State}}\\t{{.Ports}}']);
  sameLines(['images', '--format', '{{.ID}} {{.Repository}} {{.Tag}} {{.Size}} {{.CreatedAt}}']);
  sameLines(['images', '--format', 'table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.Size}}']);
});

test('ps --filter, -n and -l, and images --filter, select what docker selects', { skip }, () => {
  const names = '{{.Names}}';
  for (const f of [['status=exited'], ['name=fmt-w'], ['name=^fmt'], ['exited=0'], ['ancestor=busybox'], ['status=running', 'name=done'], ['before=fmt-done'], ['since=fmt-web']]) {
    same(['ps', '-a', ...f.flatMap((x) => ['--filter', x]), '--format', names]);
  }
  same(['ps', '-f', 'status=exited', '--format', names]);
  same(['ps', '-n', '1', '--format', names]);
  same(['ps', '-l', '--format', names]);
  for (const f of ['dangling=true', 'dangling=false', 'reference=busybox', 'reference=extra/*', 'reference=*:v1']) {
    sameLines(['images', '--filter', f, '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
  }
  const bad = silo.run(['ps', '--filter', 'colour=red']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid filter 'colour'/);
});

test('a malformed template is refused before anything runs, with one line and a non-zero exit', { skip }, () => {
  const r = silo.run(['inspect', '-f', '{{.Name', 'fmt-web']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /template: /);
  assert.equal(r.stdout, '');
});
