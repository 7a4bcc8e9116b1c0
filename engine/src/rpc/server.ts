// Serves the engine protocol on one JSON-RPC connection: maps protocol messages to the Engine's
// services and Silo's error kinds to JSON-RPC error codes (the only place that does).
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { finished } from 'node:stream/promises';
import { ResponseError, type CancellationToken, type Disposable, type MessageConnection, type NotificationType } from 'vscode-jsonrpc';
import { SiloError } from '../errors';
import * as P from '../protocol';
import type { Engine } from '../service/engine';
import { CONTAINER_FILTERS, containerInspect, containerSummary, selectContainers } from '../service/containerViews';
import { checkFilterName } from '../service/filters';
import { historyLayerIndexes, listLayer, readLayerFile } from '../layers/listing';
import type { MonitorConnection } from '../runtime/monitor';

/** A SiloError as a JSON-RPC error; anything else is Internal with its message. */
export function toResponseError(err: unknown): ResponseError<P.ErrorData> {
  if (err instanceof ResponseError) return err;
  if (err instanceof SiloError) {
    const exitCode = (err as { exitCode?: number }).exitCode;
    return new ResponseError(P.ErrorCodes[err.kind], err.message, { kind: err.kind, hint: err.hint, ...(exitCode ? { exitCode } : {}) });
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new ResponseError(P.ErrorCodes.Internal, msg, { kind: 'Internal' });
}

function abortOn(token: CancellationToken, closed: AbortSignal): AbortController {
  const ac = new AbortController();
  token.onCancellationRequested(() => ac.abort());
  closed.addEventListener('abort', () => ac.abort(), { once: true });
  return ac;
}

/**
 * A notification to a client that may have gone: sending on a closed connection throws at once, and
 * the request it belongs to is cancelled with the connection anyway.
 */
function notify<T>(conn: MessageConnection, type: NotificationType<T>, params: T): void {
  try {
    conn.sendNotification(type.method, params).catch(() => undefined);
  } catch {
    /* connection closed */
  }
}

/** Sends lines in batches: one notification per burst instead of one per line. */
function lineBatcher(conn: MessageConnection, stream: string) {
  let batch: P.LogLine[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!batch.length) return;
    notify(conn, P.StreamLinesNotification.type, { stream, lines: batch });
    batch = [];
  };
  return {
    push(line: P.LogLine) {
      batch.push(line);
      if (batch.length >= 500) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

export function serveConnection(engine: Engine, conn: MessageConnection): Disposable {
  const closed = new AbortController();
  /** Input sinks of attached containers and execs on this connection, by stream token. */
  const inputs = new Map<string, MonitorConnection>();
  /** Input that arrived before its sink was open (the client sends as soon as it has asked). */
  const early = new Map<string, P.StreamInput[]>();
  const deliver = (sink: MonitorConnection, p: P.StreamInput) => {
    if (p.data) sink.writeStdin(Buffer.from(p.data, 'base64'));
    if (p.resize) sink.resize(p.resize.rows, p.resize.cols);
    if (p.close) sink.closeStdin();
  };
  const openInput = (stream: string, sink: MonitorConnection) => {
    inputs.set(stream, sink);
    for (const p of early.get(stream) ?? []) deliver(sink, p);
    early.delete(stream);
  };
  const closeInput = (stream: string) => {
    inputs.delete(stream);
    early.delete(stream);
  };
  const subs: Disposable[] = [];

  const handle = <Params, Result>(type: { method: string }, fn: (p: Params, token: CancellationToken) => Promise<Result>) => {
    subs.push(
      conn.onRequest(type.method, async (params: Params, token: CancellationToken): Promise<unknown> => {
        try {
          return await fn(params, token);
        } catch (err) {
          throw toResponseError(err);
        }
      }),
    );
  };

  handle(P.EngineInfoRequest.type, () => engine.info());

  // ---------- images ----------
  handle<{ path: string; ref?: string; message?: string; changes?: string[] }, { id: string }>(P.ImageImportRequest.type, (p) =>
    engine.images.importRootfs(createReadStream(p.path), { ref: p.ref, message: p.message, changes: p.changes }),
  );
  handle<{ path: string }, Array<{ id: string; names: string[] }>>(P.ImageLoadRequest.type, (p) => engine.images.load(createReadStream(p.path)));
  handle<{ refs: string[]; path: string }, object>(P.ImageSaveRequest.type, async (p) => {
    // Written beside the target and renamed: an interrupted save leaves no half tarball.
    const tmp = `${p.path}.silo-tmp-${process.pid}`;
    const out = createWriteStream(tmp, { mode: 0o600 });
    try {
      await engine.images.save(p.refs, out);
      out.end();
      await finished(out);
      await fs.rename(tmp, p.path);
    } catch (err) {
      out.destroy();
      await fs.rm(tmp, { force: true });
      throw err;
    }
    return {};
  });
  handle<{ all?: boolean; dangling?: boolean }, P.ImageSummary[]>(P.ImageListRequest.type, (p) => engine.images.list(p));
  handle<{ ref: string }, Record<string, unknown>>(P.ImageInspectRequest.type, async (p) => ({ ...(await engine.images.inspect(p.ref)) }));
  handle<{ source: string; target: string }, object>(P.ImageTagRequest.type, async (p) => {
    await engine.images.tag(p.source, p.target);
    return {};
  });
  // ---------- registry ----------
  const layerProgress = (token: string | undefined) =>
    token ? (x: { id: string; phase: string; current?: number; total?: number; from?: string }) => notify(conn, P.LayerProgressNotification.type, { token, ...x }) : undefined;
  handle<{ ref: string; platform?: string; isolation?: 'process' | 'hyperv'; progress?: string }, P.ImagePullResult>(P.ImagePullRequest.type, (p, token) =>
    engine.distribution.pull(p.ref, { platform: p.platform, isolation: p.isolation, onProgress: layerProgress(p.progress), signal: abortOn(token, closed.signal).signal }),
  );
  handle<{ ref: string; progress?: string }, { digest: string; size: number; tag: string }>(P.ImagePushRequest.type, (p, token) =>
    engine.distribution.push(p.ref, { onProgress: layerProgress(p.progress), signal: abortOn(token, closed.signal).signal }),
  );
  handle<{ server?: string; username: string; password: string }, { domain: string }>(P.LoginRequest.type, (p) => engine.distribution.login(p.server, p.username, p.password));
  handle<{ server?: string }, { domain: string; removed: boolean }>(P.LogoutRequest.type, (p) => engine.distribution.logout(p.server));
  handle<{ ref: string; force?: boolean }, Array<{ Untagged: string } | { Deleted: string }>>(P.ImageRemoveRequest.type, async (p) => {
    const containers = await engine.containers.all();
    const img = await engine.images.resolve(p.ref);
    const user = containers.find((c) => c.imageId === img.id);
    if (user && p.force !== true && user.state.status === 'running') {
      throw new SiloError('FailedPrecondition', `conflict: unable to remove image ${p.ref}: container ${user.id.slice(0, 12)} is using it`, 'stop and remove the container first');
    }
    return engine.images.remove(p.ref, { force: p.force });
  });
  handle<{ ref: string }, P.HistoryRow[]>(P.ImageHistoryRequest.type, (p) => engine.images.history(p.ref));
  handle<{ ref: string }, { id: string; layerOfRow: Array<number | null> }>(P.ImageLayersRequest.type, async (p) => {
    const r = await engine.images.resolve(p.ref);
    return { id: r.id, layerOfRow: historyLayerIndexes((await engine.images.config(r.id)).history, r.layers.length) };
  });
  handle<{ ref: string; index: number; limit?: number }, { entries: P.LayerEntry[]; more: number }>(P.ImageLayerFilesRequest.type, async (p) =>
    listLayer(await engine.images.layerTar(p.ref, p.index), Math.min(p.limit ?? 20_000, 100_000)),
  );
  handle<{ ref: string; index: number; path: string }, P.ContainerFile>(P.ImageLayerReadFileRequest.type, async (p) => {
    const f = await readLayerFile(() => engine.images.layerTar(p.ref, p.index), p.path);
    return { type: f.type, size: f.size, mtime: f.mtime, ...(f.data ? { data: f.data.toString('base64') } : {}), ...(f.target !== undefined ? { target: f.target } : {}) };
  });

  // ---------- containers ----------
  handle<P.ContainerCreateParams, { id: string; name: string }>(P.ContainerCreateRequest.type, async (p) => {
    const rec = await engine.containers.create(p);
    return { id: rec.id, name: rec.name };
  });
  handle<{ id: string; consoleSize?: P.ConsoleSize }, { id: string }>(P.ContainerStartRequest.type, async (p) => ({
    id: (await engine.containers.start(p.id, p.consoleSize)).id,
  }));
  handle<P.ContainerListParams, P.ContainerSummary[]>(P.ContainerListRequest.type, async (p) => {
    const filters = new Map(Object.entries(p.filters ?? {}));
    for (const name of filters.keys()) checkFilterName(name, CONTAINER_FILTERS);
    const all = await engine.containers.all();
    const fresh = await Promise.all(all.map((c) => engine.containers.resolve(c.id).catch(() => c)));
    return selectContainers(fresh, !!p.all, filters).map((c) => containerSummary(c));
  });
  handle<{ id: string }, Record<string, unknown>>(P.ContainerInspectRequest.type, async (p) =>
    containerInspect(await engine.containers.resolve(p.id), engine.platform.snapshotter.name, engine.root),
  );
  handle<{ id: string; timeout?: number }, object>(P.ContainerStopRequest.type, async (p) => {
    await engine.containers.stop(p.id, p.timeout);
    return {};
  });
  handle<{ id: string; timeout?: number }, object>(P.ContainerRestartRequest.type, async (p) => {
    await engine.containers.restart(p.id, p.timeout);
    return {};
  });
  handle<{ id: string; signal?: string }, object>(P.ContainerKillRequest.type, async (p) => {
    await engine.containers.kill(p.id, p.signal);
    return {};
  });
  handle<{ id: string; force?: boolean }, { id: string }>(P.ContainerRemoveRequest.type, async (p) => ({ id: await engine.containers.remove(p.id, p) }));
  handle<P.ContainerWaitParams, P.ExitInfo>(P.ContainerWaitRequest.type, (p) => engine.containers.wait(p.id, { removed: p.removed }));
  handle<{ id: string }, P.Change[]>(P.ContainerDiffRequest.type, (p) => engine.containers.diff(p.id));
  handle<{ ids?: string[] }, P.ContainerStats[]>(P.ContainerStatsRequest.type, async (p) => {
    const ids = p.ids ?? (await engine.containers.all()).filter((c) => c.state.status === 'running').map((c) => c.id);
    // CPU % needs two samples: the container's CPU time over the host's in between, times its CPUs (docker's formula).
    const first = await Promise.all(ids.map((id) => engine.containers.stats(id)));
    await new Promise((r) => setTimeout(r, 500));
    const second = await Promise.all(ids.map((id) => engine.containers.stats(id)));
    return second.map((s, i) => {
      const cpu = s.cpuNs - first[i].cpuNs;
      const system = s.systemCpuNs - first[i].systemCpuNs;
      return {
        id: s.id,
        name: s.name,
        cpuPercent: system > 0 ? (cpu / system) * s.onlineCpus * 100 : 0,
        memoryUsage: s.memoryUsage,
        memoryLimit: s.memoryLimit,
        pids: s.pids,
      };
    });
  });
  handle<{ id: string; ref?: string; message?: string; author?: string; changes?: string[] }, { id: string }>(P.ContainerCommitRequest.type, (p) => engine.commit(p.id, p));
  handle<{ id: string; path: string; view: 'container' | 'image' }, P.ContainerFile>(P.ContainerReadFileRequest.type, async (p) => {
    const snapshotter = engine.platform.snapshotter;
    if (!snapshotter.readFile) throw new SiloError('NotImplemented', `reading container files is not supported by the ${snapshotter.name} snapshotter`);
    const rec = await engine.containers.resolve(p.id);
    const f = await snapshotter.readFile(rec.id, p.view === 'image' ? 'parent' : 'merged', p.path);
    return { type: f.type, size: f.size, mtime: f.mtime, ...(f.data ? { data: f.data.toString('base64') } : {}), ...(f.target !== undefined ? { target: f.target } : {}) };
  });

  handle<{ id: string; stream: string; follow?: boolean; since?: string; until?: string; tail?: number; cursor?: string; awaitStart?: boolean }, { cursor?: string }>(
    P.ContainerLogsRequest.type,
    async (p, token) => {
      const ac = abortOn(token, closed.signal);
      const out = lineBatcher(conn, p.stream);
      let cursor: string | undefined;
      const lines = await engine.containers.logs(p.id, { follow: p.follow, since: p.since, until: p.until, tail: p.tail, cursor: p.cursor, awaitStart: p.awaitStart, signal: ac.signal });
      for await (const line of lines) {
        out.push(line);
        cursor = line.cursor;
      }
      out.flush();
      return { cursor };
    },
  );

  handle<{ id: string; stream: string }, P.ExitInfo>(P.ContainerAttachRequest.type, async (p, token) => {
    const monitor = await engine.containers.attach(p.id);
    openInput(p.stream, monitor);
    const ac = abortOn(token, closed.signal);
    try {
      const aborted = new Promise<undefined>((resolve) => ac.signal.addEventListener('abort', () => resolve(undefined), { once: true }));
      const exit = await Promise.race([monitor.exited, aborted]);
      if (!exit) return engine.containers.wait(p.id);
      return exit;
    } finally {
      closeInput(p.stream);
      monitor.close();
    }
  });

  handle<
    { id: string; stream: string; cmd: string[]; tty?: boolean; stdin?: boolean; env?: string[]; user?: string; workingDir?: string; consoleSize?: P.ConsoleSize },
    P.ExitInfo
  >(P.ExecRequest.type, async (p, token) => {
    const session = await engine.containers.exec(p.id, p);
    if (session.control) openInput(p.stream, session.control);
    const ac = abortOn(token, closed.signal);
    const out = lineBatcher(conn, p.stream);
    try {
      for await (const line of session.output(ac.signal)) out.push(line);
      out.flush();
      return await session.exited;
    } finally {
      closeInput(p.stream);
      session.control?.close();
    }
  });

  subs.push(
    conn.onNotification(P.StreamInputNotification.method, (p: P.StreamInput) => {
      const sink = inputs.get(p.stream);
      if (sink) deliver(sink, p);
      else if ((early.get(p.stream)?.length ?? 0) < 10_000) early.set(p.stream, [...(early.get(p.stream) ?? []), p]);
    }),
  );

  // ---------- build ----------
  handle<P.BuildParams, P.BuildResult>(P.BuildRequest.type, (p, token) => {
    const ac = abortOn(token, closed.signal);
    const { stream, ...opts } = p;
    return engine.builds.build(opts, (event) => notify(conn, P.BuildProgressNotification.type, { stream, event }), ac.signal);
  });

  // ---------- events and system ----------
  handle<{ stream: string }, object>(P.EventsSubscribeRequest.type, async (p, token) => {
    const ac = abortOn(token, closed.signal);
    const sub = engine.events.onEvent((event) => notify(conn, P.EventNotification.type, { stream: p.stream, event }));
    await new Promise<void>((resolve) => ac.signal.addEventListener('abort', () => resolve(), { once: true }));
    sub.dispose();
    return {};
  });
  handle<{ all?: boolean }, { containersDeleted: string[]; imagesDeleted: string[]; spaceReclaimed: number }>(P.SystemPruneRequest.type, () => engine.prune());

  conn.onClose(() => closed.abort());
  return {
    dispose() {
      closed.abort();
      for (const s of subs) s.dispose();
      for (const m of inputs.values()) m.close();
    },
  };
}
