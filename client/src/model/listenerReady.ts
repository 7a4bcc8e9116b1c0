// Waiting for a debugger to listen behind a published port. Silo's port proxy accepts on the host at
// once and closes a connection when nothing listens in the container yet, so "connect succeeded" proves
// nothing: a connection that stays open for a moment does. debugpy has no retry of its own (js-debug
// does), so the debug hand-over waits for this first. A probe that connects and leaves is harmless to
// debugpy's adapter, which keeps listening for the real client.
import * as net from 'node:net';

function probe(host: string, port: number, settleMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    let timer: NodeJS.Timeout | undefined;
    const done = (ok: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => {
      timer = setTimeout(() => done(true), settleMs);
    });
    s.once('error', () => done(false));
    s.once('close', () => done(false));
  });
}

/** Resolves once a connection to host:port stays open for settleMs; rejects after timeoutMs. */
export async function waitForListener(host: string, port: number, opts: { timeoutMs?: number; settleMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    if (await probe(host, port, opts.settleMs ?? 300)) return;
    if (Date.now() > deadline) throw new Error(`nothing answered on ${host}:${port} in the container: check the app starts its debugger on that port`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
