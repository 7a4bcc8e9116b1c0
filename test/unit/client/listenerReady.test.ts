import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { waitForListener } from '../../../client/src/model/listenerReady';

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

test('a port whose connections are closed at once (a proxy with nothing behind it) is not ready until something listens', async () => {
  let ready = false;
  const held: net.Socket[] = [];
  // Like Silo's port proxy before the debugger starts: accept, then close; later: keep the connection.
  const server = net.createServer((s) => (ready ? held.push(s) : s.destroy()));
  const port = await listen(server);
  setTimeout(() => (ready = true), 700);
  const t0 = Date.now();
  await waitForListener('127.0.0.1', port, { timeoutMs: 5000, settleMs: 100 });
  assert.ok(Date.now() - t0 >= 600, 'waited for the listener');
  held.forEach((s) => s.destroy());
  server.close();
});

test('nothing listening ends in one clear error at the timeout', async () => {
  const server = net.createServer((s) => s.destroy());
  const port = await listen(server);
  await assert.rejects(waitForListener('127.0.0.1', port, { timeoutMs: 500, settleMs: 100 }), /nothing answered on 127\.0\.0\.1:\d+ in the container/);
  server.close();
});
