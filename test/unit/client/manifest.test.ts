// The manifest (package.json `contributes`) and the client code agree: every command a menu or a
// welcome view names is contributed and registered, views and contextValues match model/viewIds.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { ContextValues, DEBUG_TYPE, TASK_BUILD, TASK_RUN, ViewIds } from '../../../client/src/model/viewIds';

const root = path.resolve(__dirname, '../../..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const c = pkg.contributes;

function sources(dir: string): string {
  return readdirSync(dir)
    .map((n) => path.join(dir, n))
    .map((p) => (statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? readFileSync(p, 'utf8') : ''))
    .join('\n');
}
const code = sources(path.join(root, 'client/src'));

test('every contributed command is registered by the client, with a category', () => {
  for (const cmd of c.commands) {
    assert.ok(code.includes(`'${cmd.command}'`), `${cmd.command} is registered in client/src`);
    assert.ok(cmd.category, `${cmd.command} has a category`);
    assert.match(cmd.command, /^silo\.[a-z]+\.[a-zA-Z]+$/, 'commands are named silo.<noun>.<verb>');
  }
});

test('menus and welcome views name only contributed commands, and items match exact contextValues', () => {
  const ids = new Set(c.commands.map((x: { command: string }) => x.command));
  const values = new Set<string>(Object.values(ContextValues));
  for (const [menu, entries] of Object.entries(c.menus as Record<string, Array<{ command: string; when?: string }>>)) {
    for (const e of entries) {
      assert.ok(ids.has(e.command), `${menu}: ${e.command} is contributed`);
      for (const m of (e.when ?? '').matchAll(/viewItem == ([\w.]+)/g)) assert.ok(values.has(m[1]), `${menu}: ${m[1]} is a contextValue the client sets`);
      assert.doesNotMatch(e.when ?? '', /viewItem =~/, 'no regex-encoded state');
    }
  }
  for (const w of c.viewsWelcome) for (const m of w.contents.matchAll(/\(command:([\w.]+)\)/g)) assert.ok(ids.has(m[1]), `welcome button ${m[1]} is contributed`);
});

test('views, tasks and the debugger are declared with the ids the client uses', () => {
  assert.deepEqual(c.views.silo.map((v: { id: string }) => v.id).sort(), Object.values(ViewIds).sort());
  assert.deepEqual(c.taskDefinitions.map((t: { type: string }) => t.type).sort(), [TASK_BUILD, TASK_RUN].sort());
  assert.equal(c.debuggers[0].type, DEBUG_TYPE);
  for (const ev of [`onTaskType:${TASK_RUN}`, `onTaskType:${TASK_BUILD}`, `onDebugResolve:${DEBUG_TYPE}`, 'onFileSystem:silo']) assert.ok(pkg.activationEvents.includes(ev), ev);
});

test('the settings the language server pulls are contributed under silo.dockerfile', () => {
  const keys = Object.keys(c.configuration.properties);
  for (const k of ['silo.dataRoot', 'silo.dockerfile.rules', 'silo.dockerfile.formatter.ignoreMultilineInstructions', 'silo.dockerfile.diagnostics.instructionCasing']) assert.ok(keys.includes(k), k);
  const ruleDocs = readdirSync(path.join(root, 'docs/rules')).filter((f) => /^SILO\d+\.md$/.test(f)).map((f) => f.slice(0, -3));
  assert.deepEqual(Object.keys(c.configuration.properties['silo.dockerfile.rules'].properties).sort(), ruleDocs.sort());
});

test('the grammars the manifest names exist', () => {
  for (const g of c.grammars) assert.ok(statSync(path.join(root, g.path)).isFile(), g.path);
});

test('in an untrusted workspace, settings that choose host paths (data root, debugger folders) are taken from the user only', () => {
  const restricted: string[] = pkg.capabilities.untrustedWorkspaces.restrictedConfigurations;
  const pathSettings = Object.entries(c.configuration.properties as Record<string, { description?: string; markdownDescription?: string }>)
    .filter(([, v]) => /\b(folder|root|path)\b/i.test(v.description ?? v.markdownDescription ?? ''))
    .map(([k]) => k);
  assert.ok(pathSettings.length >= 3, 'the data root and the debugger folders are contributed');
  assert.deepEqual([...restricted].sort(), pathSettings.sort());
});
