// `--format` templates (cli/goTemplate.ts) render as Go's text/template with docker's functions does;
// the expected strings are what `docker inspect -f` prints for the same data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKind } from '../../../engine/src/errors';
import { compileTemplate } from '../../../engine/src/cli/goTemplate';

const data = {
  Id: 'abc123',
  Name: '/web',
  State: { Status: 'running', Running: true, Pid: 4242, ExitCode: 0 },
  Config: { Env: ['A=1', 'PATH=/bin'], Labels: { tier: 'front', 'com.example.x': 'y' }, Cmd: ['httpd', '-f'], Entrypoint: null, Volumes: null, Tty: false },
  Mounts: [{ Source: '/srv', Destination: '/www' }, { Source: '/data', Destination: '/d' }],
  NetworkSettings: { Ports: {} },
  Size: 1536,
};
const render = (t: string) => compileTemplate(t)(data);

test('fields, nested fields, scalars, slices and maps print as Go prints them', () => {
  assert.equal(render('{{.Name}} {{.State.Pid}} {{.State.Running}} {{.Config.Tty}}'), '/web 4242 true false');
  assert.equal(render('{{.Config.Env}}'), '[A=1 PATH=/bin]');
  assert.equal(render('{{.Config.Labels}}'), 'map[com.example.x:y tier:front]');
  // docker's structs make these a nil slice ([]), a nil map (map[]) and a nil pointer (<nil>).
  assert.equal(render('{{.Config.Entrypoint}} {{.Config.Volumes}} {{.Config.Healthcheck}}'), '[] map[] <no value>');
  assert.equal(compileTemplate('{{.Config.Healthcheck}} {{json .Config.Entrypoint}} {{len .Config.Entrypoint}}')({ Config: { Healthcheck: null, Entrypoint: null } }), '<nil> null 0');
  assert.equal(render('{{.NoSuch}}'), '<no value>');
  assert.equal(render('{{.}}').startsWith('map['), true);
  assert.equal(render('id={{ .Id }}\n'), 'id=abc123\n');
});

test('docker functions: json, join, split, upper, lower, title, pad, truncate, println', () => {
  assert.equal(render('{{json .Config.Cmd}}'), '["httpd","-f"]');
  assert.equal(render('{{json .State}}'), '{"Status":"running","Running":true,"Pid":4242,"ExitCode":0}');
  assert.equal(render('{{json .Config.Entrypoint}}'), 'null');
  assert.equal(render('{{join .Config.Cmd " "}}'), 'httpd -f');
  assert.equal(render('{{split "a:b:c" ":"}}'), '[a b c]');
  assert.equal(render('{{upper .State.Status}} {{lower "ABC"}} {{title "hello world"}}'), 'RUNNING abc Hello World');
  assert.equal(render('{{pad .Id 1 2}}|{{truncate .Id 3}}'), ' abc123  |abc');
  assert.equal(render('{{println .Id}}'), 'abc123\n');
});

test('builtins: index, len, printf, print, comparisons, and/or/not', () => {
  assert.equal(render('{{index .Config.Labels "tier"}}'), 'front');
  assert.equal(render('{{index .Config.Cmd 1}}'), '-f');
  assert.equal(render('{{(index .Mounts 0).Source}}'), '/srv');
  assert.equal(render('{{len .Mounts}} {{len .Config.Labels}} {{len .Id}}'), '2 2 6');
  assert.equal(render('{{printf "%s:%d %v %q %5s|%-4s|%%" .Name .State.Pid .State.Running .Id "ab" "c"}}'), '/web:4242 true "abc123"    ab|c   |%');
  assert.equal(render('{{print 1 2 "x" 3}}'), '1 2x3');
  assert.equal(render('{{eq .State.Status "exited" "running"}} {{ne .Size 1}} {{lt 1 2}} {{ge .Size 2048}}'), 'true true true false');
  assert.equal(render('{{and .State.Running .Id}} {{or .Config.Entrypoint "none"}} {{not .Config.Tty}}'), 'abc123 none true');
});

test('if / else if / else, with, range with variables, pipelines, trimming, comments', () => {
  const status = '{{if eq .State.Status "exited"}}down{{else if .State.Running}}up{{else}}?{{end}}';
  assert.equal(render(status), 'up');
  assert.equal(render('{{with .State}}{{.Pid}}{{end}}{{with .Config.Entrypoint}}x{{else}}none{{end}}'), '4242none');
  assert.equal(render('{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}'), '/srv:/www /data:/d ');
  assert.equal(render('{{range $i, $m := .Mounts}}{{$i}}={{$m.Destination}};{{end}}'), '0=/www;1=/d;');
  assert.equal(render('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}},{{end}}'), 'com.example.x=y,tier=front,');
  assert.equal(render('{{range .NetworkSettings.Ports}}x{{else}}no ports{{end}}'), 'no ports');
  assert.equal(render('{{range .Mounts}}{{$.Name}}{{end}}'), '/web/web');
  assert.equal(render('{{.State.Status | upper | printf "<%s>"}}'), '<RUNNING>');
  assert.equal(render('{{$n := .State.Pid}}pid {{$n}}'), 'pid 4242');
  assert.equal(render('a  {{- .Id -}}  b {{/* a comment */}}c'), 'aabc123b c');
});

test('a malformed template or an unknown function is one InvalidArgument', () => {
  for (const t of ['{{.Name', '{{if .Id}}x', '{{end}}', '{{nosuch .Id}}', '{{"unterminated}}', '{{.Id 1}}']) {
    assert.throws(() => render(t), (err) => isKind(err, 'InvalidArgument') && /^template: /.test((err as Error).message), t);
  }
});
