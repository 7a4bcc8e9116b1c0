// `silo build`: reads the Dockerfile, runs the builder (build/) over this engine's images, containers
// and snapshotter. RUN steps are ordinary containers (ContainerService); their changes become the
// step's layer through the Snapshotter; every new image goes through ImageService.createImage.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isKind, notFound, SiloError } from '../errors';
import { Builder, withRemovalFailure, type BuildDeps, type BuildOptions } from '../build/builder';
import { BuildCache } from '../build/cache';
import type { Snapshotter } from '../layers/snapshotter';
import type { ImageStore } from '../image/store';
import type { ContentStore } from '../store/content';
import type { BuildEvent, BuildResult } from '../protocol';
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

  constructor(private readonly deps: BuildServiceDeps) {
    this.cache = new BuildCache(deps.root);
  }

  async build(opts: BuildOptions, onEvent: (e: BuildEvent) => void, signal?: AbortSignal): Promise<BuildResult> {
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
        const rec = await d.containers.create({ image: step.image, cmd: step.argv, entrypoint: [], env: step.env, workingDir: step.workingDir, user: step.user, labels: { 'silo.build': 'step' } });
        const remove = () => removeStepContainer(d.containers, rec.id);
        try {
          const ac = new AbortController();
          const lines = await d.containers.logs(rec.id, { follow: true, awaitStart: true, signal: ac.signal });
          const reading = (async () => {
            for await (const l of lines) step.onOutput(l.stream, l.log);
          })();
          const onAbort = () => void d.containers.kill(rec.id, 'SIGKILL').catch(() => undefined);
          sig.addEventListener('abort', onAbort, { once: true });
          step.onStart(rec.id);
          await d.containers.start(rec.id);
          // A cancel that came while the container was starting found it not yet running: kill it now.
          if (sig.aborted) await d.containers.kill(rec.id, 'SIGKILL').catch(() => undefined);
          const exit = await d.containers.wait(rec.id);
          await reading;
          sig.removeEventListener('abort', onAbort);
          if (sig.aborted) throw new SiloError('Canceled', 'the build was canceled');
          return { exitCode: exit.exitCode, commit: async () => ((await d.snapshotter.changes(rec.id)).length ? d.snapshotter.exportChanges(rec.id) : undefined), remove };
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
