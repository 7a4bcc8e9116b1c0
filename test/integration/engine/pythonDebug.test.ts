// The `silo` debug type's Python path for real: the plan the extension resolves (client/src/model/
// debugPlan.ts) creates and starts a container through the engine protocol with debugpy mounted at
// create time; a DAP client then does what VS Code's debugpy hand-over does — attach to the published
// port with the plan's pathMappings, set a breakpoint on the WORKSPACE file, and stop there with the
// workspace path reported back. The Python image is this machine's python3 (test fixture); debugpy is
// Debian's python3-debugpy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import * as P from '../../../engine/src/protocol';
import { connectEngine } from '../../../engine/src/rpc/connect';
import { plan } from '../../../client/src/model/debugPlan';
import { waitForListener } from '../../../client/src/model/listenerReady';
import { SiloFixture, repoRoot } from '../../fixtures/fixtureSilo';

const distPackages = '/usr/lib/python3/dist-packages';
const skip =
  process.getuid?.() !== 0 ? 'running containers needs root'
  : !existsSync('/usr/bin/python3') ? 'python3 is missing: apt-get install python3'
  : !existsSync(path.join(distPackages, 'debugpy')) ? 'debugpy is missing: apt-get install python3-debugpy'
  : undefined;

test('F5 on a Python app: debugpy mounted at create, breakpoint hit on the workspace file', { skip, timeout: 180_000 }, async () => {
  const silo = new SiloFixture();
  const conn = await connectEngine(silo.root, { engineScript: path.join(repoRoot, 'dist/silo.js') });
  let dc: DebugClient | undefined;
  let id: string | undefined;
  try {
    const tar = execFileSync('bash', [path.join(repoRoot, 'test/fixtures/fixturePythonImage.sh')], { maxBuffer: 256 * 1024 * 1024 });
    silo.ok(['import', '-', 'python:fixture'], { input: tar, timeoutMs: 120_000 });

    const workspace = mkdtempSync(path.join(tmpdir(), 'silo-py-'));
    const app = path.join(workspace, 'app.py');
    writeFileSync(app, ['def greet(name):', '    message = "hello " + name', '    return message', '', 'print(greet("silo"), flush=True)', ''].join('\n'));

    const port = 20000 + (process.pid % 20000);
    const p = plan(
      { type: 'silo', request: 'launch', name: 'py', image: 'python:fixture', platform: 'python', python: { debugpyPath: distPackages, port } },
      { workspaceFolder: workspace, hostOs: 'linux', siloCommand: [process.execPath, path.join(repoRoot, 'dist/silo.js')], containerName: `silo-debug-${process.pid}` },
    );
    const created = await conn.sendRequest(P.ContainerCreateRequest.type, p.create);
    id = created.id;
    await conn.sendRequest(P.ContainerStartRequest.type, { id });

    // The hand-over: VS Code's debugpy extension connects its DAP client to `connect.host:port`.
    const connect = p.debugger.connect as { host: string; port: number };
    assert.equal(connect.host, '127.0.0.1');
    // What the debug provider does before it hands over: wait until debugpy listens behind the port.
    await waitForListener(connect.host, connect.port);
    dc = new DebugClient('unused', 'unused', 'debugpy');
    dc.defaultTimeout = 30_000;
    await dc.start(connect.port);
    await dc.initializeRequest({ adapterID: 'debugpy', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
    // debugpy answers attach only after configurationDone: send it, then configure.
    const attached = dc.attachRequest({ ...p.debugger, __sessionId: 'test' } as DebugProtocol.AttachRequestArguments);
    await dc.waitForEvent('initialized');
    const bp = await dc.setBreakpointsRequest({ source: { path: app }, breakpoints: [{ line: 3 }] });
    assert.equal(bp.body.breakpoints.length, 1);
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    await attached;
    const event = (await stopped) as DebugProtocol.StoppedEvent;
    assert.equal(event.body.reason, 'breakpoint');

    const stack = await dc.stackTraceRequest({ threadId: event.body.threadId! });
    const top = stack.body.stackFrames[0];
    assert.equal(top.line, 3);
    assert.equal(top.source?.path, app, 'the frame is reported at the workspace file, through pathMappings');
    const scopes = await dc.scopesRequest({ frameId: top.id });
    const locals = await dc.variablesRequest({ variablesReference: scopes.body.scopes[0].variablesReference });
    assert.equal(locals.body.variables.find((v) => v.name === 'message')?.value, "'hello silo'");

    await dc.continueRequest({ threadId: event.body.threadId! });
    const exited = await conn.sendRequest(P.ContainerWaitRequest.type, { id });
    assert.equal(exited.exitCode, 0, silo.run(['logs', id]).stdout + silo.run(['logs', id]).stderr);
    assert.match(silo.ok(['logs', id]), /hello silo/);
  } finally {
    // stop() waits for a close the adapter already did when the program ended: bounded.
    await Promise.race([dc?.stop().catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
    if (id) await conn.sendRequest(P.ContainerRemoveRequest.type, { id, force: true }).catch(() => undefined);
    conn.dispose();
    silo.dispose();
  }
});
