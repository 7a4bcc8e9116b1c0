// `--format` on inspect, ps and images, and `ps --filter/-n/-l`, with the docker CLI as the oracle: the
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
});
after(() => silo?.dispose());

function docker(args: string[]): string {
  const r = spawnSync(DOCKER_CLIENT, args, { env: { ...process.env, DOCKER_HOST: dockerHost, TZ: 'UTC' }, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout.toString();
}

const same = (args: string[]) => assert.equal(silo.ok(args), docker(args), args.join(' '));

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
  same(['images', '--format', '{{.ID}} {{.Repository}} {{.Tag}} {{.Size}} {{.CreatedAt}}']);
  same(['images', '--format', 'table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.Size}}']);
});

test('ps --filter, -n and -l select what docker selects', { skip }, () => {
  const names = '{{.Names}}';
  for (const f of [['status=exited'], ['name=fmt-w'], ['name=^fmt'], ['exited=0'], ['ancestor=busybox'], ['status=running', 'name=done'], ['before=fmt-done'], ['since=fmt-web']]) {
    same(['ps', '-a', ...f.flatMap((x) => ['--filter', x]), '--format', names]);
  }
  same(['ps', '-f', 'status=exited', '--format', names]);
  same(['ps', '-n', '1', '--format', names]);
  same(['ps', '-l', '--format', names]);
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
