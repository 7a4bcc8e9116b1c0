// The exact docker command lines Container Tools (microsoft/vscode-containers) runs for its views and
// commands, run with the real docker CLI against Silo, and their output parsed the way its container
// client parses it. Source: packages/vscode-container-client/src/clients/DockerClientBase/
// DockerClientBase.ts (get*CommandArgs, parsePerLineJson, parseInspectJson) and DockerClient/
// DockerClient.ts (contexts); the field checks mirror its zod schemas (Shared*Record.ts,
// DockerVersionRecord.ts, DockerInfoRecord.ts, DockerEventRecord.ts, DockerContextRecord.ts).
// engine/src/dockerapi/README.md lists the same commands.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { SiloFixture } from '../../fixtures/fixtureSilo';

const CLI = '/usr/local/bin/docker';
const skip = !existsSync(CLI) && 'docker CLI missing';
/** DockerClientBase.defaultFormatForJson */
const JSON_FORMAT = '{{json .}}';

let silo: SiloFixture;
let env: NodeJS.ProcessEnv;

function docker(args: string[], input = ''): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(CLI, args, { env, input, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function ok(args: string[], input = ''): string {
  const r = docker(args, input);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** parsePerLineJson in strict mode: one JSON object per non-empty line, every line must parse. */
function perLine(output: string): Record<string, unknown>[] {
  return output.split(/\r?\n/).filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** parseJsonArrayOrLines: one JSON value (array or object), else one object per line. */
function arrayOrLines(output: string): Record<string, unknown>[] {
  const trimmed = output.trim();
  if (!trimmed) return [];
  try {
    const v = JSON.parse(trimmed) as unknown;
    return (Array.isArray(v) ? v : [v]) as Record<string, unknown>[];
  } catch {
    return perLine(trimmed);
  }
}

const isStr = (v: unknown) => typeof v === 'string';
const optStr = (v: unknown) => v === undefined || typeof v === 'string';
const optBool = (v: unknown) => v === undefined || typeof v === 'boolean';
const nullableRecord = (v: unknown) => v === undefined || v === null || (typeof v === 'object' && !Array.isArray(v));
/** stringArraySchema: nullish, a string or an array of strings. */
const stringArray = (v: unknown) => v === undefined || v === null || isStr(v) || (Array.isArray(v) && v.every(isStr));
/** dateStringSchema with dayjs.utc: an ISO-ish date string that parses. */
const validDate = (v: unknown) => isStr(v) && !Number.isNaN(Date.parse(v as string));
/** tryParseSize: a number, "N/A", or digits with an optional kB/MB/GB unit. */
const size = (v: unknown) => v === undefined || v === null || typeof v === 'number' || (isStr(v) && (/^n\/a$/i.test(v as string) || /\d+(\.\d+)?\s*([kmg]?b)?/i.test(v as string)));
/** labelsStringSchema: "k=v,k2=v2". */
function labels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  let last: string | undefined;
  for (const frag of s.split(',')) {
    const i = frag.indexOf('=');
    if (i < 0) {
      if (last !== undefined) out[last] += `,${frag}`;
      continue;
    }
    last = frag.slice(0, i);
    out[last] = frag.slice(i + 1);
  }
  return out;
}

before(() => {
  if (skip) return;
  silo = new SiloFixture();
  silo.importBusybox();
  const m = /^export DOCKER_HOST=(unix:\/\/.+)$/.exec(silo.ok(['docker-env']).trim());
  assert.ok(m);
  env = { ...process.env, DOCKER_HOST: m[1], DOCKER_CONFIG: mkdtempSync('/tmp/silo-ct-cfg-') };
});
after(() => {
  if (env?.DOCKER_CONFIG) rmSync(env.DOCKER_CONFIG, { recursive: true, force: true });
  silo?.dispose();
});

test('version, info, context ls/inspect (getVersionCommandArgs, getInfoCommandArgs, DockerClient contexts)', { skip }, () => {
  const version = JSON.parse(ok(['version', '--format', JSON_FORMAT]));
  assert.ok(isStr(version.Client.ApiVersion) && isStr(version.Server.ApiVersion));
  assert.equal(version.Server.ApiVersion, '1.41');

  const info = JSON.parse(ok(['info', '--format', JSON_FORMAT]));
  assert.ok(optStr(info.OperatingSystem));
  assert.ok(info.OSType === 'linux' || info.OSType === 'windows');

  const contexts = perLine(ok(['context', 'ls', '--format', JSON_FORMAT]));
  assert.ok(contexts.length >= 1);
  for (const c of contexts) assert.ok(isStr(c.Name) && typeof c.Current === 'boolean' && optStr(c.DockerEndpoint));
  const current = contexts.find((c) => c.Current);
  assert.equal(current?.DockerEndpoint, env.DOCKER_HOST);
  const inspected = arrayOrLines(ok(['context', 'inspect', '--format', JSON_FORMAT, String(current?.Name)]));
  assert.equal(inspected.length, 1);
  assert.ok(isStr(inspected[0].Name));
});

test('the containers view: container ls, inspect, logs, files, stats, start/stop/restart/rm', { skip }, async () => {
  const id = ok(['container', 'run', '--detach', '--name', 'ctview', '--label', 'com.example=a,b', '--label', 'team=silo', 'busybox', 'sh', '-c', 'echo ready; mkdir /data; echo hi > /data/f.txt; sleep 100']).trim();
  ok(['create', '--name', 'ctstopped', 'busybox', 'true']);

  // getListContainersCommandArgs({ all: true }), exactly as composed there.
  const list = perLine(ok(['container', 'ls', '--all', '--no-trunc', '--format', JSON_FORMAT, '--size=false']));
  assert.equal(list.length, 2);
  for (const c of list) {
    assert.ok(isStr(c.ID) && isStr(c.Names), 'ID and Names are required strings');
    assert.ok(optStr(c.Image) && optStr(c.Ports) && optStr(c.Networks) && optStr(c.Labels) && optStr(c.State) && optStr(c.Status));
    // resolveCreatedAt: docker prints "2006-01-02 15:04:05 -0700 MST"; dayjs parses its first part.
    assert.match(String(c.CreatedAt), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
  }
  const view = list.find((c) => c.Names === 'ctview')!;
  assert.equal(view.ID, id);
  assert.equal(view.State, 'running');
  assert.equal(view.Image, 'busybox');
  assert.deepEqual(labels(String(view.Labels)), { 'com.example': 'a,b', team: 'silo' });
  assert.equal(list.find((c) => c.Names === 'ctstopped')!.State, 'created');

  // The image view's "containers of this image" and the filtered forms the views use.
  const ancestors = perLine(ok(['container', 'ls', '--filter', `ancestor=busybox`, '--no-trunc', '--format', JSON_FORMAT, '--size=false']));
  assert.deepEqual(ancestors.map((c) => c.Names), ['ctview']);
  const running = perLine(ok(['container', 'ls', '--all', '--filter', 'status=running', '--no-trunc', '--format', JSON_FORMAT, '--size=false']));
  assert.deepEqual(running.map((c) => c.Names), ['ctview']);

  // getInspectContainersCommandArgs
  const inspect = arrayOrLines(ok(['container', 'inspect', '--format', JSON_FORMAT, 'ctview']));
  assert.equal(inspect.length, 1);
  const ci = inspect[0] as Record<string, any>;
  assert.ok(isStr(ci.Id) && isStr(ci.Name) && optStr(ci.Image) && optStr(ci.Created));
  assert.ok(Array.isArray(ci.Mounts));
  assert.equal(ci.State.Status, 'running');
  assert.ok(validDate(ci.State.StartedAt));
  assert.ok(stringArray(ci.Config.Entrypoint) && stringArray(ci.Config.Cmd));
  assert.ok(nullableRecord(ci.Config.Labels) && nullableRecord(ci.NetworkSettings.Networks) && nullableRecord(ci.NetworkSettings.Ports));
  assert.ok(optBool(ci.HostConfig.PublishAllPorts ?? undefined));

  // getLogsForContainerCommandArgs({ follow: true }) — DockerServerReadyAction reads until it sees its pattern.
  const follow = spawn(CLI, ['container', 'logs', '--follow', 'ctview'], { env });
  const first = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const t = setTimeout(() => reject(new Error(`logs --follow saw: ${seen}`)), 15_000);
    follow.stdout.on('data', (d) => {
      seen += d;
      if (seen.includes('\n')) {
        clearTimeout(t);
        resolve(seen);
      }
    });
  });
  follow.kill();
  assert.equal(first, 'ready\n');
  assert.match(ok(['container', 'logs', '--timestamps', '--tail', '1', 'ctview']), /^\d{4}-\d\d-\d\dT\S+Z ready\n$/);

  // getListFilesCommandArgs / getStatPathCommandArgs (the Files node) and parseListFilesCommandLinuxOutput.
  const stat = "%f %h %g %u %s %X %Y %Z %n";
  const dir = '/data/';
  const files = ok(['container', 'exec', 'ctview', '/bin/sh', '-c', `stat -c '${stat}' "${dir}"* || true && stat -c '${stat}' "${dir}".* || true && stat -c '${stat}' "${dir}".`]);
  const rows = [...files.matchAll(/^(?<type>[0-9a-fA-F]+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(?<size>\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(?<name>.*)$/gm)];
  const file = rows.find((r) => r.groups!.name === '/data/f.txt');
  assert.ok(file, `stat output parses: ${files}`);
  assert.equal(Number(file.groups!.size), 3);
  assert.equal(parseInt(file.groups!.type, 16) & 0o170000, 0o100000, 'a regular file');

  // getReadFileCommandArgs (Linux): `cp container:path -` is a tar stream on stdout.
  const tar = spawnSync(CLI, ['cp', 'ctview:/data/f.txt', '-'], { env, timeout: 30_000 });
  assert.equal(tar.status, 0, tar.stderr.toString());
  assert.equal(tar.stdout.subarray(0, 5).toString(), 'f.txt');
  assert.ok(tar.stdout.includes('hi\n'));

  // getStatsContainersCommandArgs({ all: true }) runs in a terminal; it prints a table and keeps going.
  const stats = spawn(CLI, ['container', 'stats', '--all'], { env });
  const table = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const t = setTimeout(() => reject(new Error(`stats saw: ${seen}`)), 20_000);
    stats.stdout.on('data', (d) => {
      seen += d;
      if (seen.includes('ctview') && seen.includes('ctstopped')) {
        clearTimeout(t);
        resolve(seen);
      }
    });
  });
  stats.kill();
  assert.match(table, /CONTAINER ID\s+NAME\s+CPU %/);

  // Container commands: start, stop, restart (with --time), rm --force.
  ok(['container', 'stop', '--time', '1', 'ctview']);
  assert.equal(perLine(ok(['container', 'ls', '--all', '--filter', 'status=exited', '--no-trunc', '--format', JSON_FORMAT, '--size=false']))[0].Names, 'ctview');
  ok(['container', 'start', 'ctview']);
  ok(['container', 'restart', '--time', '1', 'ctview']);
  assert.equal(JSON.parse(ok(['container', 'inspect', '--format', JSON_FORMAT, 'ctview'])).State.Status, 'running');
  ok(['container', 'rm', '--force', 'ctview', 'ctstopped']);
  assert.equal(ok(['container', 'ls', '--all', '--no-trunc', '--format', JSON_FORMAT, '--size=false']), '');
});

test('the images view: image ls, image inspect, tag, rm', { skip }, () => {
  // getListImagesCommandArgs({}) and the dangling filter the view offers.
  const images = perLine(ok(['image', 'ls', '--no-trunc', '--format', JSON_FORMAT]));
  assert.equal(images.length, 1);
  const img = images[0];
  assert.ok(optStr(img.ID) && optStr(img.Repository) && optStr(img.Tag) && size(img.Size));
  assert.equal(`${img.Repository}:${img.Tag}`, 'busybox:latest');
  assert.match(String(img.ID), /^sha256:[0-9a-f]{64}$/);
  assert.match(String(img.CreatedAt), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
  assert.equal(ok(['image', 'ls', '--filter', 'dangling=true', '--no-trunc', '--format', JSON_FORMAT]), '');

  const inspect = arrayOrLines(ok(['image', 'inspect', '--format', JSON_FORMAT, 'busybox']));
  assert.equal(inspect.length, 1);
  const ii = inspect[0] as Record<string, any>;
  assert.ok(isStr(ii.Id));
  assert.deepEqual(ii.RepoTags, ['busybox:latest']);
  assert.equal(ii.Os, 'linux');
  assert.ok(['amd64', 'x86_64', 'arm64', 'aarch64'].includes(String(ii.Architecture).toLowerCase()));
  assert.ok(stringArray(ii.Config.Cmd) && stringArray(ii.Config.Entrypoint));
  assert.ok(ii.Created === undefined || ii.Created === null || validDate(ii.Created));

  ok(['image', 'tag', 'busybox', 'ctbox:1']);
  assert.equal(perLine(ok(['image', 'ls', '--filter', 'reference=ctbox', '--no-trunc', '--format', JSON_FORMAT])).length, 1);
  ok(['image', 'rm', 'ctbox:1']);
});

test('the networks and volumes views: ls and inspect parse', { skip }, () => {
  const networks = perLine(ok(['network', 'ls', '--no-trunc', '--format', JSON_FORMAT]));
  assert.ok(networks.length >= 1);
  for (const n of networks) {
    assert.ok(isStr(n.Name) && optStr(n.ID) && optStr(n.Driver) && optStr(n.Scope));
    // booleanStringSchema (z.stringbool) with a catch: "true"/"false".
    assert.ok(n.IPv6 === undefined || ['true', 'false'].includes(String(n.IPv6)));
    assert.ok(n.CreatedAt === undefined || /^\d{4}-\d\d-\d\d/.test(String(n.CreatedAt)));
  }
  const inspect = arrayOrLines(ok(['network', 'inspect', '--format', JSON_FORMAT, String(networks[0].Name)]));
  assert.equal(inspect.length, 1);
  const ni = inspect[0] as Record<string, any>;
  assert.ok(isStr(ni.Name) && optStr(ni.Id) && optBool(ni.Internal) && optBool(ni.EnableIPv6));
  assert.ok(ni.Created === undefined || validDate(ni.Created) || typeof ni.Created === 'number');

  // getListVolumesCommandArgs: parsed with parseInspectJson; an empty list is empty output.
  assert.deepEqual(arrayOrLines(ok(['volume', 'ls', '--format', JSON_FORMAT])), []);
});

test('the refresh event stream: events with --since/--until and the type/event filters', { skip }, async () => {
  // RefreshManager.setupRefreshOnRuntimeEvent: since = now (seconds), until = since + lifetime.
  const types = ['container', 'image', 'network', 'volume'];
  const actions = ['create', 'destroy', 'die', 'kill', 'pause', 'rename', 'restart', 'start', 'stop', 'unpause', 'update',
    'delete', 'import', 'load', 'pull', 'save', 'tag', 'untag', 'remove', 'prune'];
  const since = Math.round(Date.now() / 1000);
  const until = since + 4;
  const args = ['events', '--since', String(since), '--until', String(until),
    ...types.flatMap((t) => ['--filter', `type=${t}`]), ...actions.flatMap((a) => ['--filter', `event=${a}`]), '--format', JSON_FORMAT];
  const ev = spawn(CLI, args, { env });
  let out = '';
  ev.stdout.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => ev.on('exit', resolve));
  await new Promise((r) => setTimeout(r, 500));
  ok(['container', 'run', '--name', 'ctevents', 'busybox', 'true']);
  ok(['image', 'tag', 'busybox', 'ctevents:1']);
  ok(['container', 'rm', 'ctevents']);
  // --until ends the stream by itself once the time has passed.
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 15_000))]);
  if (code === 'still running') ev.kill();
  assert.equal(code, 0, `events --until ends the stream (stderr/out: ${out})`);
  const events = perLine(out);
  for (const e of events) {
    assert.ok(isStr(e.Type) && isStr(e.Action) && typeof e.time === 'number');
    const actor = e.Actor as Record<string, unknown>;
    assert.ok(isStr(actor.ID) && nullableRecord(actor.Attributes) && actor.Attributes !== null);
  }
  const seen = events.map((e) => `${e.Type} ${e.Action}`);
  for (const want of ['container create', 'container start', 'container die', 'image tag', 'container destroy']) {
    assert.ok(seen.includes(want), `saw ${want} in ${seen.join(', ')}`);
  }
  assert.ok(!seen.includes('container attach'), 'the event filter is honoured');
  ok(['image', 'rm', 'ctevents:1']);
});

test('exec -it for "Attach Shell" (getExecContainerCommandArgs with interactive and tty)', { skip }, () => {
  ok(['container', 'run', '--detach', '--name', 'ctshell', 'busybox', 'sleep', '100']);
  const r = spawnSync('script', ['-qc', `${CLI} container exec --interactive --tty ctshell sh -c "tty; echo done"`, '/dev/null'], { env, input: '', timeout: 30_000 });
  // "^@": util-linux script echoes the end of its (empty) stdin into the pty; not the container's output.
  assert.match(r.stdout.toString().replace(/\^@/g, ''), /\/dev\/pts\/\d+\r?\ndone/);
  ok(['container', 'rm', '--force', 'ctshell']);
});

test('prune commands print what parsePruneLikeOutput reads', { skip }, () => {
  ok(['create', '--name', 'ctprune', 'busybox', 'true']);
  ok(['run', '-d', '--name', 'ctrunning', 'busybox', 'sleep', '100']);
  const out = ok(['container', 'prune', '--force']);
  assert.match(out, /^Total reclaimed space:\s+[\w\s.]+$/im);
  assert.equal(ok(['container', 'ls', '--all', '--format', '{{.Names}}']), 'ctrunning\n', 'a running container is kept');
  ok(['container', 'rm', '--force', 'ctrunning']);
  assert.match(ok(['image', 'prune', '--force']), /^Total reclaimed space:\s+[\w\s.]+$/im);
});
