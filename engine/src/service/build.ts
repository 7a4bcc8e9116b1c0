// `silo build`: reads the Dockerfile, runs the builder (build/) over this engine's images, containers
// and snapshotter. RUN steps are ordinary containers (ContainerService); their changes become the
// step's layer through the Snapshotter; every new image goes through ImageService.createImage.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isKind, notFound, SiloError } from '../errors';
import type * as BuilderModule from '../build/builder';
import type { BuildDeps, BuildOptions } from '../build/builder';
import { BuildCache } from '../build/cache';
import type { Snapshotter } from '../layers/snapshotter';
import type { ImageStore } from '../image/store';
import type { ContentStore } from '../store/content';
import type { BuildEvent, BuildResult } from '../protocol';
import type { BindMount } from '../runtime/runtime';
import type { ContainerService } from './containers';
import type { ImageService } from './images';

export interface BuildServiceDeps {
  root: string;
  content: ContentStore;
  imageStore: ImageStore;
  images: ImageService;
  containers: ContainerService;
  snapshotter: Snapshotter;
  os: 'linux' | 'windows';
}

export class BuildService {
  readonly cache: BuildCache;
  private sweptVolumes = false;

  constructor(private readonly deps: BuildServiceDeps) {
    this.cache = new BuildCache(deps.root);
  }

  async build(opts: BuildOptions, onEvent: (e: BuildEvent) => void, signal?: AbortSignal): Promise<BuildResult> {
    // The builder (and Dockerfile parsing, URL fetching) loads at the first build: an engine that never
    // builds never holds its code (engine idle memory target).
    const { Builder, withRemovalFailure } = require('../build/builder') as typeof BuilderModule;
    const dockerfile = opts.dockerfile ? path.resolve(opts.dockerfile) : path.join(opts.context, 'Dockerfile');
    const text = await fs.readFile(dockerfile, 'utf8').catch(() => {
      throw notFound(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${dockerfile}: no such file or directory`, 'give the Dockerfile with -f, or put one in the context');
    });
    const d = this.deps;
    const buildDeps: BuildDeps = {
      content: d.content,
      cache: this.cache,
      os: d.os,
      architecture: os.arch() === 'x64' ? 'amd64' : os.arch(),
      resolveImage: async (ref) => {
        const r = await d.imageStore.lookup(ref);
        return r ? { id: r.id, layers: r.layers } : undefined;
      },
      imageConfig: (id) => d.images.config(id),
      createImage: (o) => d.images.createImage({ ...o, gzipLevel: 1 }),
      tag: (ref, id) => d.images.tag(id, ref),
      run: async (step, sig) => {
        const volumes = await this.stepVolumes(step.image, step.volumes);
        const { id } = await d.containers
          .create({ image: step.image, cmd: step.argv, entrypoint: [], env: step.env, workingDir: step.workingDir, user: step.user, labels: { 'silo.build': 'step' }, binds: volumes.binds })
          .catch(async (err: unknown) => {
            await volumes.remove();
            throw err;
          });
        const remove = async () => {
          try {
            await removeStepContainer(d.containers, id);
          } finally {
            await volumes.remove();
          }
        };
        try {
          // Where the image lacks a volume's directory, it is made as runc makes a mount point.
          for (const b of volumes.binds) await d.snapshotter.makeMountPoint?.(id, b.target);
          const ac = new AbortController();
          const lines = await d.containers.logs(id, { follow: true, awaitStart: true, signal: ac.signal });
          const reading = (async () => {
            for await (const l of lines) step.onOutput(l.stream, l.log);
          })();
          const onAbort = () => void d.containers.kill(id, 'SIGKILL').catch(() => undefined);
          sig.addEventListener('abort', onAbort, { once: true });
          step.onStart(id);
          await d.containers.start(id);
          // A cancel that came while the container was starting found it not yet running: kill it now.
          if (sig.aborted) await d.containers.kill(id, 'SIGKILL').catch(() => undefined);
          const exit = await d.containers.wait(id);
          await reading;
          sig.removeEventListener('abort', onAbort);
          if (sig.aborted) throw new SiloError('Canceled', 'the build was canceled');
          // The container has stopped and goes next: its snapshot's files can become the layer itself.
          const commit = async () => ((await d.snapshotter.changes(id)).length ? { tar: d.snapshotter.exportChanges(id), snapshot: id } : undefined);
          return { exitCode: exit.exitCode, commit, remove };
        } catch (err) {
          throw await remove().then(
            () => err,
            (removal: Error) => withRemovalFailure(err, removal),
          );
        }
      },
    };
    const builder = new Builder(buildDeps, { ...opts, dockerfile }, onEvent, signal);
    const r = await builder.build(text);
    return { id: r.id, tags: opts.tags ?? [], dockerfile, steps: r.steps };
  }

  /**
   * An anonymous volume for each of the image's VOLUMEs, as Docker's classic builder gives a RUN
   * container (moby daemon/create.go createContainerOSSpecificSettings): a fresh directory filled with
   * what the image has at that path, bind-mounted there, so the step's writes under it never reach its
   * layer. Removed after the step.
   */
  private async stepVolumes(image: string, targets: string[]): Promise<{ binds: BindMount[]; remove(): Promise<void> }> {
    const d = this.deps;
    // A snapshotter that cannot fill a volume from the image (windowsfilter, for now) runs steps as
    // before: without volumes, rather than with empty ones that would hide the image's files.
    if (!targets.length || !d.snapshotter.copyPath) return { binds: [], remove: async () => undefined };
    const base = path.join(d.root, 'build-volumes');
    if (!this.sweptVolumes) {
      // Left by an engine that stopped in the middle of a step: no step of this process uses them.
      this.sweptVolumes = true;
      for (const name of await fs.readdir(base).catch(() => [])) {
        if (!name.startsWith(`${process.pid}-`)) await fs.rm(path.join(base, name), { recursive: true, force: true });
      }
    }
    await fs.mkdir(base, { recursive: true, mode: 0o700 });
    const dir = await fs.mkdtemp(path.join(base, `${process.pid}-`));
    const remove = () => fs.rm(dir, { recursive: true, force: true });
    try {
      const img = await d.imageStore.lookup(image);
      const parent = img?.layers.length ? img.layers[img.layers.length - 1].chainID : undefined;
      const binds: BindMount[] = [];
      for (const [i, target] of targets.entries()) {
        const source = path.join(dir, String(i));
        await fs.mkdir(source, { mode: 0o755 });
        await fs.chmod(source, 0o755); // as Docker makes a volume's _data, whatever the umask
        await d.snapshotter.copyPath(parent, target, source);
        binds.push({ source, target, readonly: false });
      }
      return { binds, remove };
    } catch (err) {
      await remove();
      throw err;
    }
  }
}

/**
 * Removes a RUN step's container before the step's outcome is reported, so a client that sees the
 * build end never sees the container. A removal can fail while the container's monitor is still
 * letting go of the root filesystem (a loaded machine): it is tried once more after a pause, and a
 * second failure is an error the caller reports, never swallowed.
 */
export async function removeStepContainer(containers: Pick<ContainerService, 'remove' | 'resolve'>, id: string, pauseMs = 1000): Promise<void> {
  let first: Error;
  try {
    await containers.remove(id, { force: true });
    return;
  } catch (err) {
    first = err as Error;
  }
  await new Promise((r) => setTimeout(r, pauseMs));
  try {
    await containers.remove(id, { force: true });
  } catch (err) {
    // Gone after all (the first attempt got far enough): nothing is left behind.
    if (isKind(err, 'NotFound') && (await containers.resolve(id).then(() => false, (e: unknown) => isKind(e, 'NotFound')))) return;
    const short = id.slice(0, 12);
    throw new SiloError('Internal', `the build step container ${short} could not be removed (${first.message})`, `remove it with \`silo rm -f ${short}\``);
  }
}
