// The engine: one data root, its stores and the services over them, composed from a Platform.
// Every edge (the JSON-RPC server, the Docker API, tests) holds one Engine and calls its services.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { invalidArgument } from '../errors';
import { ContentStore } from '../store/content';
import { applyConfigChanges } from '../image/configChanges';
import type { ContainerConfig } from '../image/types';
import { ImageStore } from '../image/store';
import type { Snapshotter } from '../layers/snapshotter';
import type { Isolation, ProcessAccounting, Runtime } from '../runtime/runtime';
import type { EngineInfo } from '../protocol';
import { BuildService } from './build';
import { ContainerService } from './containers';
import { EventBus } from './events';
import { ImageService } from './images';
import type * as Distribution from './distribution';

import { API_VERSION, VERSION } from '../version';

export { API_VERSION, VERSION };
const MAX_ROOT_BYTES = 107 - '/docker.sock'.length;

/** What a host platform brings: made by platform/<os>/ and nothing else. */
export interface Platform {
  os: 'linux' | 'windows';
  snapshotter: Snapshotter;
  runtime: Runtime;
  /** Host facts for `info` (kernel, cgroup mode, build number, ...). */
  facts(): Partial<EngineInfo>;
  isolations: Isolation[];
  checkRunnable?: (os: string, isolation: Isolation) => void;
  /** Gives memory freed by past work back to the system (called when the engine goes idle). */
  releaseMemory?: () => void;
  /** Resource use and process lists of running containers (stats, top). */
  accounting?: ProcessAccounting;
  /** Throws unless `source` is a host directory (or pipe) containers can bind; default: an existing absolute path of this host. */
  checkBindSource?: (source: string) => void;
}

export class Engine {
  readonly events = new EventBus();
  readonly content: ContentStore;
  readonly imageStore: ImageStore;
  readonly images: ImageService;
  readonly containers: ContainerService;
  readonly builds: BuildService;
  private distributionService?: Distribution.DistributionService;
  /** Image IDs that containers use: kept in memory, since image removal asks synchronously. */
  private imagesInUse = new Set<string>();

  constructor(
    readonly root: string,
    readonly platform: Platform,
  ) {
    this.content = new ContentStore(root);
    this.imageStore = new ImageStore(root, this.content);
    this.images = new ImageService({
      root,
      content: this.content,
      images: this.imageStore,
      snapshotter: platform.snapshotter,
      inUse: (id) => this.imagesInUse.has(id),
      isBuildStep: (id) => this.builds.cache.imagesSync().has(id),
      events: this.events,
    });
    this.containers = new ContainerService({
      root,
      content: this.content,
      images: this.imageStore,
      snapshotter: platform.snapshotter,
      runtime: platform.runtime,
      events: this.events,
      os: platform.os,
      checkRunnable: platform.checkRunnable,
      accounting: platform.accounting,
      checkBindSource: platform.checkBindSource,
    });
    this.builds = new BuildService({
      root,
      content: this.content,
      imageStore: this.imageStore,
      images: this.images,
      containers: this.containers,
      snapshotter: platform.snapshotter,
      os: platform.os,
    });
    this.events.onEvent((e) => {
      if (e.type === 'container' && (e.action === 'create' || e.action === 'destroy')) void this.refreshImagesInUse();
    });
  }

  /**
   * pull, push, login, logout (registry/). Made at first use: the registry client (HTTP, TLS, auth) is
   * code most idle engines never run, and code that never loads costs no memory.
   */
  get distribution(): Distribution.DistributionService {
    if (!this.distributionService) {
      const { DistributionService } = require('./distribution') as typeof Distribution;
      this.distributionService = new DistributionService({ root: this.root, content: this.content, images: this.imageStore, imageService: this.images, snapshotter: this.platform.snapshotter, os: this.platform.os });
    }
    return this.distributionService;
  }

  private async refreshImagesInUse(): Promise<void> {
    this.imagesInUse = new Set((await this.containers.all()).map((c) => c.imageId));
  }

  /** Creates the data root (owner-only) and picks up containers that kept running while no engine was up. */
  async init(): Promise<void> {
    // engine.sock lives in the data root itself, and a Unix socket path holds at most 107 bytes.
    if (process.platform !== 'win32' && Buffer.byteLength(this.root) > MAX_ROOT_BYTES) {
      throw invalidArgument(`the data root path ${this.root} is too long for the engine socket (at most ${MAX_ROOT_BYTES} bytes)`, 'choose a shorter --root, e.g. /var/lib/silo');
    }
    await fs.mkdir(this.root, { recursive: true, mode: 0o700 });
    await fs.chmod(this.root, 0o700);
    for (const d of ['containers', 'layers', 'snapshots', 'images']) await fs.mkdir(path.join(this.root, d), { recursive: true });
    await this.containers.reconcile();
    await this.builds.cache.images();
    await this.refreshImagesInUse();
  }

  async info(): Promise<EngineInfo> {
    const all = await this.containers.all();
    const running = all.filter((c) => c.state.status === 'running').length;
    return {
      version: VERSION,
      apiVersion: API_VERSION,
      os: this.platform.os,
      osVersion: os.release(),
      kernel: os.release(),
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      runtime: this.platform.runtime.name,
      storageDriver: this.platform.snapshotter.name,
      isolations: this.platform.isolations,
      defaultIsolation: this.platform.isolations[0] ?? 'process',
      dataRoot: this.root,
      pid: process.pid,
      containers: { total: all.length, running, stopped: all.length - running },
      images: (await this.imageStore.list()).length,
      ...this.platform.facts(),
    };
  }

  /**
   * `commit`: a container's changes as a new image over its own image, with the container's config
   * (command, env, working dir, user, labels) and Dockerfile `changes` applied on top, as docker commit does.
   */
  async commit(idOrName: string, opts: { ref?: string; message?: string; author?: string; changes?: string[] } = {}): Promise<{ id: string }> {
    const rec = await this.containers.resolve(idOrName);
    const image = await this.images.config(rec.imageId);
    const config: ContainerConfig = {
      ...(image.config ?? {}),
      Cmd: rec.config.cmd.length ? rec.config.cmd : image.config?.Cmd ?? null,
      Entrypoint: rec.config.entrypoint.length ? rec.config.entrypoint : image.config?.Entrypoint ?? null,
      Env: rec.config.env,
      WorkingDir: rec.config.workingDir === '/' ? image.config?.WorkingDir ?? '' : rec.config.workingDir,
      User: rec.config.user,
      Labels: rec.config.labels,
    };
    const { id } = await this.images.createImage({
      parent: rec.imageId,
      layer: this.platform.snapshotter.exportChanges(rec.id),
      config: applyConfigChanges(config, opts.changes ?? [], image.os),
      history: { created_by: rec.spec.process.args.join(' '), ...(opts.message ? { comment: opts.message } : {}), ...(opts.author ? { author: opts.author } : {}) },
      comment: opts.message,
      author: opts.author,
      parentId: rec.imageId,
      ref: opts.ref,
    });
    this.events.emit('container', 'commit', rec.id, { name: rec.name, imageID: id });
    return { id };
  }

  /** `system prune`: stopped containers, then images no name or container refers to, then unreferenced content. */
  async prune(): Promise<{ containersDeleted: string[]; imagesDeleted: string[]; spaceReclaimed: number }> {
    const containersDeleted: string[] = [];
    for (const c of await this.containers.all()) {
      if (c.state.status === 'exited' || c.state.status === 'created' || c.state.status === 'dead') {
        containersDeleted.push(await this.containers.remove(c.id));
      }
    }
    await this.refreshImagesInUse();
    const imagesDeleted: string[] = [];
    for (const row of await this.images.list({ dangling: true })) {
      if (this.imagesInUse.has(row.id)) continue;
      for (const r of await this.images.remove(row.id)) if ('Deleted' in r) imagesDeleted.push(r.Deleted);
    }
    const report = await this.images.prune(await this.containers.parentChainIDs());
    return { containersDeleted, imagesDeleted, spaceReclaimed: report.bytes };
  }
}
