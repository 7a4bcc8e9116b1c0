// Dockerfile -> image, the classic builder's way: each step makes one image from its parent (a RUN
// through a container whose changes become the layer, a COPY/ADD through a layer written directly,
// any other instruction as config only), and each step result is a build cache record.
//
// Stages the target does not need are skipped; stages that do not depend on each other run at the
// same time. The first miss in a stage makes every later step of it miss (moby imageprobe
// `cacheBusted`). A failure names file:line; the step's container is always removed.
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { failedPrecondition, invalidArgument, isKind, notFound, SiloError } from '../errors';
import { applyConfigChanges, shellWords } from '../image/configChanges';
import type { LayerRecord } from '../image/store';
import type { ContainerConfig, DockerImageConfig, HistoryEntry } from '../image/types';
import type { ContentStore } from '../store/content';
import type { BuildCacheStep, BuildEvent, BuildStep } from '../protocol';
import { BuildCache, cacheKey, type CacheInputs } from './cache';
import { BuildContext, type ContextEntry } from './context';
import { isArchive, writeCopyLayer, type LayerItem } from './copyLayer';
import { execForm, lineError, parseDockerfile, type Instruction, type ParsedDockerfile, type Stage } from './dockerfile';
import { expandVariables } from './expand';
import { fetchUrl } from './fetchUrl';
import { goHealthcheck, goQuoteList, layerHistory, metadataHistory } from './history';
import { readFromImage } from './fromImage';
import { readImagePath, resolveChown, statImagePaths, type ImagePathStat } from './imageFiles';
import { checkWindowsDest, defaultShell, WINDOWS_NO_SCRATCH, windowsWorkdir } from './windowsRules';
import type { BuildParams } from '../protocol';

/** A step's error with the failure to remove its container added, so neither is lost. */
export function withRemovalFailure(err: unknown, removal: Error): SiloError {
  const also = removal instanceof SiloError ? removal.line : removal.message;
  if (err instanceof SiloError) return new SiloError(err.kind, `${err.message}; and ${also}`, err.hint);
  return new SiloError('Internal', `${(err as Error).message}; and ${also}`);
}

/** What the builder needs of the engine (service/build.ts provides it). */
export interface BuildDeps {
  content: ContentStore;
  cache: BuildCache;
  /** The platform this engine runs containers of. */
  os: 'linux' | 'windows';
  architecture: string;
  resolveImage(ref: string): Promise<{ id: string; layers: LayerRecord[] } | undefined>;
  imageConfig(id: string): Promise<DockerImageConfig>;
  /** `snapshot`: the stopped step container's writable snapshot `layer` was exported from (see StepLayer). */
  createImage(opts: { parent?: string; layer?: Readable; snapshot?: string; config: ContainerConfig; history: HistoryEntry; author?: string; parentId?: string; platform?: { os: string; architecture: string } }): Promise<{ id: string }>;
  tag(ref: string, id: string): Promise<void>;
  /** Runs `argv` in a container over `image`; streams output; resolves with the exit code and the container's layer (none: it changed nothing). */
  run(opts: RunStep, signal: AbortSignal): Promise<{ exitCode: number; commit(): Promise<StepLayer | undefined>; remove(): Promise<void> }>;
}

/**
 * What a RUN step changed: the layer tar, and the writable snapshot it was read from, whose files can
 * become the layer's as they are (the container has stopped and is removed right after).
 */
export interface StepLayer {
  tar: Readable;
  snapshot?: string;
}

export interface RunStep {
  image: string;
  argv: string[];
  /** The image's VOLUMEs: each an anonymous volume for the step, so what the step writes there is not in its layer. */
  volumes: string[];
  env: string[];
  workingDir: string;
  user: string;
  onStart(id: string): void;
  onOutput(stream: 'stdout' | 'stderr', text: string): void;
}

/** What a build is asked for: the protocol's parameters less the notification token. */
export type BuildOptions = Omit<BuildParams, 'stream'>;

interface State {
  /** Current image ID ('' for an empty root). */
  image: string;
  config: ContainerConfig;
  os: string;
  architecture: string;
  layers: LayerRecord[];
  /** ARGs declared in this stage, with their values (undefined: declared without value). */
  args: Map<string, string | undefined>;
  busted: boolean;
  cmdSet: boolean;
  author?: string;
}

interface StageResult {
  image: string;
  layers: LayerRecord[];
  os: string;
}

/** Args every build has without declaring them; they never bust the cache unless declared (reference.md "Predefined ARGs"). */
const PREDEFINED = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];
const EXPANDED = new Set(['ADD', 'COPY', 'ENV', 'EXPOSE', 'LABEL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']);
const MAX_OUTPUT_TAIL = 10;
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function envMap(env: string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    m.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  return m;
}

export class Builder {
  private readonly file: string;
  private readonly dockerfileAbs: string;
  private df!: ParsedDockerfile;
  private ctx!: BuildContext;
  private readonly steps: BuildCacheStep[] = [];
  private readonly results = new Map<number, Promise<StageResult>>();
  private readonly ac = new AbortController();
  private stepNumbers = new Map<Instruction, number>();
  private total = 0;
  private globalArgs = new Map<string, string | undefined>();
  private readonly usedBuildArgs = new Set<string>();

  constructor(
    private readonly deps: BuildDeps,
    private readonly opts: BuildOptions,
    private readonly emit: (e: BuildEvent) => void,
    signal?: AbortSignal,
  ) {
    this.dockerfileAbs = opts.dockerfile ? path.resolve(opts.dockerfile) : path.join(opts.context, 'Dockerfile');
    this.file = path.basename(this.dockerfileAbs);
    signal?.addEventListener('abort', () => this.ac.abort(), { once: true });
  }

  async build(text: string): Promise<{ id: string; steps: BuildCacheStep[] }> {
    this.df = parseDockerfile(text, this.file);
    const rel = path.relative(this.opts.context, this.dockerfileAbs);
    this.ctx = await BuildContext.open(this.opts.context, rel.startsWith('..') ? undefined : rel.split(path.sep).join('/'));
    for (const a of this.df.globalArgs) {
      for (const [k, v] of this.parseArg(a, (n) => this.globalArgs.get(n) ?? undefined)) this.globalArgs.set(k, v);
    }
    const target = this.targetStage();
    const needed = this.neededStages(target);
    // Step numbers in file order over the stages built (FROM counts as a step, as in docker's output).
    for (const s of this.df.stages) {
      if (!needed.has(s.index)) continue;
      this.stepNumbers.set(s.from, ++this.total);
      for (const i of s.instructions) this.stepNumbers.set(i, ++this.total);
    }
    const labels = Object.entries(this.opts.labels ?? {});
    if (labels.length) this.total++;
    for (const i of needed) this.stageResult(i).catch(() => undefined);
    let result: StageResult;
    try {
      const settled = await Promise.allSettled([...needed].map((i) => this.stageResult(i)));
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      result = await this.stageResult(target.index);
    } catch (err) {
      this.ac.abort();
      throw err;
    }
    let id = result.image;
    if (labels.length) {
      const cfg = (await this.deps.imageConfig(id)).config ?? {};
      const step: BuildStep = { step: this.total, total: this.total, stage: target.index, line: target.from.line, instruction: `LABEL ${labels.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}` };
      this.emit({ kind: 'step', step });
      id = (await this.deps.createImage({ parent: id, config: { ...cfg, Labels: { ...(cfg.Labels ?? {}), ...Object.fromEntries(labels) } }, history: { created_by: metadataHistory(cfg.Shell?.length ? cfg.Shell : defaultShell(result.os), `LABEL ${labels.map(([k, v]) => `${k}=${v}`).join(' ')}`), empty_layer: true } })).id;
      this.emit({ kind: 'image', step, id });
    }
    const unused = Object.keys(this.opts.buildArgs ?? {}).filter((k) => !this.usedBuildArgs.has(k) && !PREDEFINED.includes(k));
    if (unused.length) this.emit({ kind: 'warning', text: `One or more build-args [${unused.join(' ')}] were not consumed` });
    for (const t of this.opts.tags ?? []) await this.deps.tag(t, id);
    return { id, steps: this.steps };
  }

  private targetStage(): Stage {
    if (!this.opts.target) return this.df.stages[this.df.stages.length - 1];
    const s = this.df.stages.find((x) => x.name === this.opts.target!.toLowerCase());
    if (!s) throw notFound(`failed to reach build target ${this.opts.target} in Dockerfile`, `the stages are: ${this.df.stages.map((x) => x.name ?? x.index).join(', ')}`);
    return s;
  }

  /** A stage named by FROM or --from: by name or index; undefined when it is an image. */
  private stageNamed(ref: string, before: number): Stage | undefined {
    const byName = this.df.stages.find((s) => s.name === ref.toLowerCase() && s.index < before);
    if (byName) return byName;
    if (/^\d+$/.test(ref)) {
      const s = this.df.stages[Number(ref)];
      if (!s || s.index >= before) return undefined;
      return s;
    }
    return undefined;
  }

  private fromRef(s: Stage): string {
    return expandVariables(s.base, (n) => this.globalArgs.get(n), this.df.escape).value;
  }

  private neededStages(target: Stage): Set<number> {
    const need = new Set<number>();
    const visit = (s: Stage) => {
      if (need.has(s.index)) return;
      need.add(s.index);
      const base = this.stageNamed(this.fromRef(s), s.index);
      if (base) visit(base);
      for (const i of s.instructions) {
        const from = i.flags.from;
        if ((i.keyword === 'COPY' || i.keyword === 'ADD') && from) {
          const dep = this.stageNamed(from, s.index);
          if (dep) visit(dep);
          else if (this.df.stages.some((x) => x.name === from.toLowerCase())) throw lineError(this.file, i.line, `stage ${from} is used before it is defined`, 'define the stage above this line');
        }
      }
    };
    visit(target);
    return need;
  }

  private stageResult(index: number): Promise<StageResult> {
    let p = this.results.get(index);
    if (!p) {
      p = this.buildStage(this.df.stages[index]);
      this.results.set(index, p);
    }
    return p;
  }

  private stepOf(ins: Instruction, stage: Stage, lineText?: string): BuildStep {
    return { step: this.stepNumbers.get(ins) ?? 0, total: this.total, stage: stage.index, line: ins.line, instruction: lineText ?? `${ins.keyword} ${ins.original.replace(/^\S+\s*/, '')}`.trim() };
  }

  private checkCanceled(): void {
    if (this.ac.signal.aborted) throw new SiloError('Canceled', 'the build was canceled');
  }

  private async buildStage(stage: Stage): Promise<StageResult> {
    const fromStep = this.stepOf(stage.from, stage, `FROM ${stage.from.original.replace(/^\S+\s*/, '')}`);
    const ref = this.fromRef(stage);
    const platformOs = stage.platform ? expandVariables(stage.platform, (n) => this.globalArgs.get(n)).value.split('/')[0] : undefined;
    let state: State;
    const base = this.stageNamed(ref, stage.index);
    this.emit({ kind: 'step', step: fromStep });
    if (base) {
      const r = await this.stageResult(base.index);
      state = await this.stateOf(r.image, r.layers);
    } else if (ref === 'scratch') {
      const os = platformOs ?? this.deps.os;
      if (os === 'windows') throw lineError(this.file, stage.from.line, WINDOWS_NO_SCRATCH, 'start from a Windows base image such as mcr.microsoft.com/windows/nanoserver');
      state = { image: '', config: {}, os, architecture: this.deps.architecture, layers: [], args: new Map(), busted: false, cmdSet: false };
    } else {
      if (!ref) throw lineError(this.file, stage.from.line, 'FROM names no image', 'an ARG used in FROM must be declared before the first FROM');
      const img = await this.deps.resolveImage(ref).catch((err: unknown) => {
        if (isKind(err, 'InvalidArgument')) throw lineError(this.file, stage.from.line, (err as SiloError).message);
        throw err;
      });
      if (!img) throw lineError(this.file, stage.from.line, `pull access denied for ${ref}: the image is not present locally`, 'pull it, load it with `silo load`, or import it with `silo import`', 'NotFound');
      if (this.opts.pull) this.emit({ kind: 'warning', text: `--pull: this engine has no registry client yet; using the local ${ref}` });
      state = await this.stateOf(img.id, img.layers);
      if (platformOs && platformOs !== state.os) throw lineError(this.file, stage.from.line, `image ${ref} is for ${state.os}, not the requested platform ${stage.platform}`);
    }
    // The default PATH joins the config of a Linux stage that has none (moby dispatchers.go
    // initializeStage: "Add the default PATH to runConfig.ENV if one exists for the operating system").
    if (state.os !== 'windows' && !envMap(state.config.Env).has('PATH')) state.config = { ...state.config, Env: [...(state.config.Env ?? []), `PATH=${DEFAULT_PATH}`] };
    this.emit({ kind: 'image', step: fromStep, id: state.image || 'scratch' });
    this.steps.push({ line: stage.from.line, cached: true });

    // ONBUILD triggers of the base run first, then are cleared (moby dispatchers.go dispatchTriggeredOnBuild).
    const triggers = state.config.OnBuild ?? [];
    if (triggers.length) {
      state.config = { ...state.config, OnBuild: null };
      for (const t of triggers) {
        const parsed = parseDockerfile(`FROM scratch\n${t}\n`, this.file).stages[0].instructions[0];
        const ins: Instruction = { ...parsed, line: stage.from.line, endLine: stage.from.line };
        await this.step(stage, state, ins, this.stepOf(stage.from, stage, `${ins.keyword} ${ins.original.replace(/^\S+\s*/, '')} (ONBUILD)`));
      }
    }
    for (const ins of stage.instructions) {
      this.checkCanceled();
      await this.step(stage, state, ins, this.stepOf(ins, stage));
    }
    if (!state.image) {
      // An empty stage: an image with no layer, so it can still be tagged or copied from.
      state.image = (await this.deps.createImage({ config: state.config, history: { created_by: 'FROM scratch', empty_layer: true }, platform: { os: state.os, architecture: state.architecture } })).id;
    }
    return { image: state.image, layers: state.layers, os: state.os };
  }

  private async stateOf(image: string, layers: LayerRecord[]): Promise<State> {
    const cfg = await this.deps.imageConfig(image);
    return { image, config: structuredClone(cfg.config ?? {}), os: cfg.os, architecture: cfg.architecture, layers, args: new Map(), busted: false, cmdSet: false };
  }

  /** ARG name[=default]... ; a --build-arg overrides the default. */
  private parseArg(ins: Instruction, lookup: (n: string) => string | undefined): Array<[string, string | undefined]> {
    const out: Array<[string, string | undefined]> = [];
    for (const w of shellWords(ins.args)) {
      const eq = w.indexOf('=');
      const name = eq < 0 ? w : w.slice(0, eq);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw lineError(this.file, ins.line, `invalid ARG name "${name}"`);
      const given = this.opts.buildArgs?.[name];
      if (given !== undefined) this.usedBuildArgs.add(name);
      if (given !== undefined) out.push([name, given]);
      else if (eq >= 0) out.push([name, expandVariables(w.slice(eq + 1), lookup, this.df.escape).value]);
      else out.push([name, this.globalArgs.get(name)]);
    }
    return out;
  }

  private lookup(state: State): (n: string) => string | undefined {
    const env = envMap(state.config.Env);
    return (n) => env.get(n) ?? state.args.get(n) ?? undefined;
  }

  /** Build args in scope with a value, not shadowed by ENV: what RUN sees and what its cache key covers. */
  private runArgs(state: State): Record<string, string> {
    const env = envMap(state.config.Env);
    const out: Record<string, string> = {};
    for (const [k, v] of state.args) if (v !== undefined && !env.has(k)) out[k] = v;
    return out;
  }

  private async step(stage: Stage, state: State, ins: Instruction, step: BuildStep): Promise<void> {
    this.emit({ kind: 'step', step });
    const kw = ins.keyword;
    if (kw === 'ARG') {
      const lookup = this.lookup(state);
      // History names each ARG with its Dockerfile default, not the --build-arg value (dispatchArg).
      const declared = shellWords(ins.args).map((w) => {
        const eq = w.indexOf('=');
        return eq < 0 ? w : `${w.slice(0, eq)}=${expandVariables(w.slice(eq + 1), lookup, this.df.escape).value}`;
      });
      for (const [k, v] of this.parseArg(ins, lookup)) state.args.set(k, v);
      // The classic builder commits an ARG as an image of its own; its cache key is the text alone,
      // so a changed value misses first at the step that uses it.
      const comment = `ARG ${declared.join(' ')}`;
      const inputs = this.inputs(state, comment, {});
      if (await this.probe(state, step, inputs)) return;
      await this.commit(state, step, inputs, undefined, { created_by: metadataHistory(this.shellOf(state), comment), empty_layer: true });
      return;
    }
    const lookup = this.lookup(state);
    const used = new Set<string>();
    let text = ins.args;
    if (EXPANDED.has(kw)) {
      try {
        const e = expandVariables(ins.args, lookup, this.df.escape);
        text = e.value;
        for (const u of e.used) used.add(u);
      } catch (err) {
        throw lineError(this.file, ins.line, (err as Error).message);
      }
    }
    const args: Record<string, string> = {};
    for (const u of used) {
      const v = state.args.get(u);
      if (v !== undefined && !envMap(state.config.Env).has(u)) args[u] = v;
    }
    try {
      if (kw === 'RUN') await this.runStep(state, ins, step);
      else if (kw === 'COPY' || kw === 'ADD') await this.copyStep(stage, state, ins, step, text, args);
      else await this.configStep(state, ins, step, text, args);
    } catch (err) {
      if (err instanceof SiloError && /^\S+:\d+: /.test(err.message)) throw err;
      if (err instanceof SiloError && err.kind === 'Canceled') throw err;
      const e = err as Error;
      throw lineError(this.file, ins.line, e.message, (err as SiloError).hint, err instanceof SiloError ? err.kind : 'InvalidArgument');
    }
  }

  /** Probes the cache; on a hit moves the state to the cached image and returns true. */
  private async probe(state: State, step: BuildStep, inputs: CacheInputs): Promise<boolean> {
    const line = step.line;
    let reason: string | undefined;
    if (this.opts.noCache) reason = '--no-cache';
    else if (state.busted) reason = 'an earlier step of this stage was rebuilt';
    else {
      const rec = await this.deps.cache.get(cacheKey(inputs));
      const img = rec ? await this.deps.resolveImage(rec.image).catch(() => undefined) : undefined;
      if (rec && img) {
        state.image = img.id;
        state.layers = img.layers;
        const cfg = await this.deps.imageConfig(img.id);
        state.config = structuredClone(cfg.config ?? {});
        this.steps.push({ line, cached: true });
        this.emit({ kind: 'cache', step, cached: true });
        this.emit({ kind: 'image', step, id: img.id });
        return true;
      }
      reason = rec ? 'the cached image was removed' : await this.deps.cache.explainMiss(inputs);
    }
    state.busted = true;
    this.steps.push({ line, cached: false, reason });
    this.emit({ kind: 'cache', step, cached: false, reason });
    return false;
  }

  private async commit(state: State, step: BuildStep, inputs: CacheInputs, layer: Readable | undefined, history: HistoryEntry, snapshot?: string): Promise<void> {
    const { id } = await this.deps.createImage({
      parent: state.image || undefined,
      layer,
      ...(snapshot ? { snapshot } : {}),
      config: state.config,
      history,
      author: state.author,
      parentId: state.image || undefined,
      platform: { os: state.os, architecture: state.architecture },
    });
    const [, img] = await Promise.all([this.deps.cache.put({ ...inputs, key: cacheKey(inputs), image: id, created: new Date().toISOString() }), this.deps.resolveImage(id)]);
    state.image = id;
    state.layers = img?.layers ?? state.layers;
    this.emit({ kind: 'image', step, id });
  }

  private inputs(state: State, instruction: string, args: Record<string, string>, files?: { hash: string; files: Record<string, string> }): CacheInputs {
    return { parent: state.image, platform: `${state.os}/${state.architecture}`, instruction, args, ...(files ? { filesHash: files.hash, files: files.files } : {}) };
  }

  private async configStep(state: State, ins: Instruction, step: BuildStep, text: string, args: Record<string, string>): Promise<void> {
    const kw = ins.keyword;
    const before = state.config;
    const shell = state.config.Shell?.length ? state.config.Shell : defaultShell(state.os);
    let next: ContainerConfig;
    if (kw === 'SHELL') {
      const argv = execForm(text);
      if (!argv || !argv.length) throw lineError(this.file, ins.line, 'SHELL requires the arguments to be in JSON form', 'write SHELL ["executable", "parameters"]');
      next = { ...before, Shell: argv };
    } else if (kw === 'CMD' || kw === 'ENTRYPOINT') {
      const argv = text.trim() === '' ? null : execForm(text) ?? [...shell, text];
      next = kw === 'CMD' ? { ...before, Cmd: argv } : { ...before, Entrypoint: argv, ...(state.cmdSet ? {} : { Cmd: null }) };
      if (kw === 'CMD') state.cmdSet = true;
    } else if (kw === 'MAINTAINER') {
      state.author = text;
      next = before;
    } else if (kw === 'ONBUILD') {
      const k = text.trim().split(/\s+/)[0]?.toUpperCase();
      if (k === 'ONBUILD' || k === 'FROM' || k === 'MAINTAINER') throw lineError(this.file, ins.line, `${k} isn't allowed as an ONBUILD trigger`);
      next = applyConfigChanges(before, [`ONBUILD ${text}`], state.os);
    } else if (kw === 'WORKDIR' && state.os === 'windows') {
      next = { ...before, WorkingDir: windowsWorkdir(before.WorkingDir, text.trim()) };
    } else {
      next = applyConfigChanges(before, [`${kw} ${text}`], state.os);
    }
    const instruction = `${kw} ${text}`;
    const inputs = this.inputs(state, instruction, args);
    if (await this.probe(state, step, inputs)) return;
    state.config = next;
    const comment = this.historyComment(kw, text, next);
    if (kw === 'WORKDIR' && state.os === this.deps.os && state.os !== 'windows') {
      // The classic builder creates the directory and commits it as a layer (dispatchWorkdir ->
      // ContainerCreateWorkdir, owned by root, 0755); an existing directory gives an empty layer.
      const layer = await this.workdirLayer(state, next.WorkingDir ?? '/');
      await this.commit(state, step, inputs, layer, { created_by: layerHistory(this.shellOf(state), comment), ...(layer ? {} : { empty_layer: true }) });
      return;
    }
    await this.commit(state, step, inputs, undefined, { created_by: metadataHistory(this.shellOf(state), comment), empty_layer: true });
  }

  private shellOf(state: State): string[] {
    return state.config.Shell?.length ? state.config.Shell : defaultShell(state.os);
  }

  /** The instruction as the classic builder prints it in history: values as parsed, lists as Go prints them. */
  private historyComment(kw: string, text: string, next: ContainerConfig): string {
    const pairs = () => {
      const words = shellWords(text);
      if (words.length && !words[0].includes('=')) return `${words[0]}=${words.slice(1).join(' ')}`;
      return words.join(' ');
    };
    switch (kw) {
      case 'ENV':
      case 'LABEL':
        return `${kw} ${pairs()}`;
      case 'CMD':
        return `CMD ${goQuoteList(next.Cmd)}`;
      case 'ENTRYPOINT':
        return `ENTRYPOINT ${goQuoteList(next.Entrypoint)}`;
      case 'SHELL':
        return `SHELL [${(next.Shell ?? []).join(' ')}]`;
      case 'VOLUME':
        return `VOLUME [${(execForm(text) ?? shellWords(text)).join(' ')}]`;
      case 'EXPOSE':
        return `EXPOSE ${shellWords(text).join(' ')}`;
      case 'HEALTHCHECK':
        return next.Healthcheck ? `HEALTHCHECK ${goHealthcheck(next.Healthcheck)}` : `HEALTHCHECK ${text}`;
      case 'WORKDIR':
        return `WORKDIR ${next.WorkingDir ?? text}`;
      default:
        return `${kw} ${text}`;
    }
  }

  /** A layer with the WORKDIR and each missing parent (existing parents kept as they are); none when all exist. */
  private async workdirLayer(state: State, dir: string): Promise<Readable | undefined> {
    const dirs = await this.missingParents(state, [], dir);
    // Nothing to make: Docker's empty diff becomes no layer at all (image.NewChildImage isEmptyLayer).
    if (!dirs.some((d) => d.created)) return undefined;
    return writeCopyLayer(dirs, { uid: 0, gid: 0 });
  }

  private async runStep(state: State, ins: Instruction, step: BuildStep): Promise<void> {
    for (const f of Object.keys(ins.flags)) throw lineError(this.file, ins.line, `the --${f} option requires BuildKit`, 'Silo builds with the classic builder; remove the flag');
    const shell = state.config.Shell?.length ? state.config.Shell : defaultShell(state.os);
    let argv = execForm(ins.args);
    if (!argv) {
      // A RUN that is only a heredoc runs its body as the script (BuildKit).
      const only = ins.heredocs.length === 1 && /^<<-?["']?\w+["']?$/.test(ins.args.trim());
      const cmd = only ? ins.heredocs[0].content : ins.heredocs.length ? [ins.args, ...ins.heredocs.map((h) => h.content + h.name)].join('\n') : ins.args;
      argv = [...shell, cmd];
    }
    const args = this.runArgs(state);
    for (const k of Object.keys(args)) if (this.opts.buildArgs?.[k] !== undefined) this.usedBuildArgs.add(k);
    const prefix = Object.keys(args).length ? `|${Object.keys(args).length} ${Object.keys(args).sort().map((k) => `${k}=${args[k]}`).join(' ')} ` : '';
    const instruction = `RUN ${JSON.stringify(argv)}`;
    const inputs = this.inputs(state, instruction, args);
    if (await this.probe(state, step, inputs)) return;
    if (state.os !== this.deps.os) {
      throw failedPrecondition(`RUN needs a ${state.os} container and this engine runs ${this.deps.os} containers`, `build ${state.os} images on a ${state.os} host`);
    }
    if (!state.image) throw invalidArgument('RUN on an empty image (FROM scratch) has no shell to run', 'COPY a program in first, or start FROM an image with a shell');
    const tail: string[] = [];
    let partial = '';
    const keep = (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      tail.push(...lines);
      if (tail.length > MAX_OUTPUT_TAIL) tail.splice(0, tail.length - MAX_OUTPUT_TAIL);
    };
    let runId = '';
    const env = [...(state.config.Env ?? []), ...Object.entries(args).map(([k, v]) => `${k}=${v}`)];
    if (state.os !== 'windows' && !env.some((e) => e.startsWith('PATH='))) env.unshift(`PATH=${DEFAULT_PATH}`);
    const run = await this.deps.run(
      {
        image: state.image,
        argv,
        env,
        workingDir: state.config.WorkingDir || '/',
        user: state.config.User ?? '',
        volumes: Object.keys(state.config.Volumes ?? {}),
        onStart: (id) => {
          runId = id;
          this.emit({ kind: 'container', step, id });
        },
        onOutput: (stream, text) => {
          keep(text);
          this.emit({ kind: 'output', step, stream, text });
        },
      },
      this.ac.signal,
    );
    let failure: unknown;
    try {
      this.checkCanceled();
      if (run.exitCode !== 0) {
        if (partial) tail.push(partial);
        const last = tail.length ? `; last output:\n${tail.map((l) => `  ${l}`).join('\n')}` : '';
        throw lineError(this.file, ins.line, `The command '${argv.join(' ')}' returned a non-zero code: ${run.exitCode}${last}`, undefined, 'FailedPrecondition');
      }
      // A RUN that changed nothing adds no layer, as Docker's (image.NewChildImage isEmptyLayer).
      const layer = await run.commit();
      await this.commit(state, step, inputs, layer?.tar, { created_by: `${prefix}${argv.join(' ')}`, ...(layer ? {} : { empty_layer: true }) }, layer?.snapshot);
    } catch (err) {
      failure = err;
    }
    // The container goes before the step's outcome is reported (a client that saw the build end must
    // not see it in `ps -a`); a removal that fails is said, with the step's own error or as a warning.
    const removal = await run.remove().then(() => undefined, (e: Error) => e);
    if (!removal) this.emit({ kind: 'removed', step, id: runId });
    if (failure) throw removal ? withRemovalFailure(failure, removal) : failure;
    if (removal) this.emit({ kind: 'warning', text: removal instanceof SiloError ? removal.line : removal.message });
  }

  private async copyStep(stage: Stage, state: State, ins: Instruction, step: BuildStep, text: string, args: Record<string, string>): Promise<void> {
    const kw = ins.keyword;
    for (const f of Object.keys(ins.flags)) if (!['from', 'chown', 'chmod'].includes(f) || (kw === 'ADD' && f === 'from')) throw lineError(this.file, ins.line, `unknown flag: --${f}`, `${kw} takes ${kw === 'ADD' ? '--chown and --chmod' : '--from, --chown and --chmod'}`);
    if (state.os === 'windows' && ins.flags.chmod) throw lineError(this.file, ins.line, '--chmod is not supported when building Windows images');
    const words = execForm(text) ?? shellWords(text);
    if (words.length < 2) throw lineError(this.file, ins.line, `${kw} requires at least two arguments, but got ${words.length}`, `write ${kw} <src>... <dest>`);
    let dest = words[words.length - 1];
    const srcs = words.slice(0, -1);
    if (state.os === 'windows') dest = checkWindowsDest(dest, state.config.WorkingDir);
    else if (!dest.startsWith('/')) dest = path.posix.join(state.config.WorkingDir || '/', dest) + (dest.endsWith('/') ? '/' : '');
    const destIsDir = dest.endsWith('/') || dest.endsWith('\\');
    const chmod = ins.flags.chmod ? parseInt(ins.flags.chmod, 8) : undefined;
    if (ins.flags.chmod && (!/^[0-7]{3,4}$/.test(ins.flags.chmod) || Number.isNaN(chmod))) throw lineError(this.file, ins.line, `invalid --chmod "${ins.flags.chmod}"`, 'give an octal mode such as 755');

    // Sources: heredocs, URLs (ADD), another stage or image (--from), or the context.
    const items: LayerItem[] = [];
    const fileHashes: Record<string, string> = {};
    const hashParts: string[] = [];
    const place = (name: string, many: boolean) => (destIsDir || many ? path.posix.join(dest, name) : dest);
    const heredocNames = new Set(ins.heredocs.map((h) => h.name));
    const contextSrcs: string[] = [];
    let count = 0;
    let contextDirCopy = false;
    for (const s of srcs) {
      const h = /^<<-?["']?(\w+)["']?$/.exec(s);
      if (h && heredocNames.has(h[1])) {
        const body = Buffer.from(ins.heredocs.find((x) => x.name === h[1])!.content);
        items.push({ dest: place(h[1], srcs.length > 1), kind: 'bytes', bytes: body, mode: 0o644, mtime: new Date(0) });
        hashParts.push(`heredoc:${h[1]}:${body.toString('base64')}`);
        count++;
      } else if (kw === 'ADD' && /^https?:\/\//.test(s)) {
        const got = await fetchUrl(s, this.ac.signal);
        items.push({ dest: place(got.name, srcs.length > 1), kind: 'bytes', bytes: got.bytes, mode: 0o600, mtime: got.mtime });
        hashParts.push(`url:${s}:${got.hash}`);
        fileHashes[s] = got.hash;
        count++;
      } else contextSrcs.push(s);
    }
    if (contextSrcs.length) {
      if (ins.flags.from) {
        const from = ins.flags.from;
        const dep = this.stageNamed(from, stage.index);
        let layers: LayerRecord[];
        if (dep) layers = (await this.stageResult(dep.index)).layers;
        else {
          const img = await this.deps.resolveImage(from);
          if (!img) throw notFound(`invalid from flag value ${from}: no stage or image of that name`, 'name an earlier stage (FROM ... AS name) or a local image');
          layers = img.layers;
        }
        const got = await readFromImage(this.deps.content, layers, contextSrcs, this.ac.signal);
        for (const s of got.sources) {
          count += s.isDir ? 2 : 1;
          if (s.isDir) contextDirCopy = true;
          for (const it of s.items) items.push({ ...it, dest: s.isDir ? (it.dest ? path.posix.join(dest, it.dest) : dest) : place(it.dest, srcs.length > 1 || got.sources.length > 1) });
        }
        hashParts.push(`from:${got.hash}`);
        Object.assign(fileHashes, got.files);
      } else {
        const sel = await this.ctx.select(contextSrcs);
        const many = srcs.length > 1 || sel.sources.length > 1;
        for (const s of sel.sources) {
          if (s.isDir) {
            count += 2;
            contextDirCopy = true;
            for (const e of s.entries) items.push(this.contextItem(e, path.posix.join(dest, e.target)));
          } else {
            count++;
            const e = s.entries[0];
            const asArchive = kw === 'ADD' && state.os !== 'windows' && (await isArchive(e.abs));
            items.push(asArchive ? { dest, kind: 'archive', entry: e } : this.contextItem(e, place(path.posix.basename(s.rel), many)));
          }
        }
        hashParts.push(`ctx:${sel.hash}`);
        Object.assign(fileHashes, sel.files);
      }
    }
    if (count > 1 && !destIsDir) throw lineError(this.file, ins.line, `When using ${kw} with more than one source file, the destination must be a directory and end with a /`);
    const flags = Object.entries(ins.flags).map(([k, v]) => `--${k}=${v}`).join(' ');
    const instruction = `${kw} ${flags ? flags + ' ' : ''}${srcs.join(' ')} ${dest}`;
    const hash = hashParts.join('\n');
    const inputs = this.inputs(state, instruction, args, { hash, files: fileHashes });
    if (await this.probe(state, step, inputs)) return;
    if (state.os !== this.deps.os) throw failedPrecondition(`${kw} into a ${state.os} image needs a ${state.os} engine (its layer format differs)`, `build ${state.os} images on a ${state.os} host`);

    // A single file onto an existing directory lands inside it (docker: `COPY a.txt /tmp` is /tmp/a.txt).
    if (count === 1 && !destIsDir && items.length === 1 && items[0].kind !== 'archive' && items[0].kind !== 'directory') {
      const existing = await readImagePath(this.deps.content, state.layers, dest);
      if (existing?.type === 'directory') items[0].dest = path.posix.join(dest, path.posix.basename(srcs[0]));
    }
    let own = { uid: 0, gid: 0, chmod };
    if (ins.flags.chown) {
      const ids = await resolveChown(this.deps.content, state.layers, ins.flags.chown).catch((err: Error) => {
        throw lineError(this.file, ins.line, err.message, 'use numeric ids, or add the user to the image first');
      });
      own = { ...own, ...ids };
    }
    const layer = writeCopyLayer([...(await this.missingParents(state, items, contextDirCopy ? dest : undefined)), ...items], own);
    // Docker's line: `COPY file:<hash> in <dest> ` (dir: for one directory, multi: for several sources).
    const kind = count > 1 ? 'multi' : items.length === 1 && items[0].kind !== 'directory' ? 'file' : 'dir';
    const srcHash = createHash('sha256').update(hash).digest('hex');
    await this.commit(state, step, inputs, layer, { created_by: layerHistory(this.shellOf(state), `${kw} ${kind}:${srcHash} in ${words[words.length - 1]} `) });
  }

  /**
   * Every parent directory of what a copy writes, parents first, as Docker's layer has them (overlay2
   * tars the upper dir, parents included): a missing one made owned by the --chown identity, 0755
   * (moby copy.go idtools.MkdirAllAndChownNew), an existing one as the image has it. An existing
   * parent left out would be made 0:0 0755 by whoever unpacks the layer and hide the real one.
   */
  private async missingParents(state: State, items: LayerItem[], alsoDir?: string): Promise<LayerItem[]> {
    const listed = new Set(items.filter((i) => i.kind === 'directory').map((i) => i.dest.replace(/\/+$/, '')));
    const needed = new Set<string>();
    const addAncestors = (p: string, self: boolean) => {
      for (let d = self ? p.replace(/\/+$/, '') : path.posix.dirname(p.replace(/\/+$/, '')); d !== '/' && d !== '.' && d !== ''; d = path.posix.dirname(d)) needed.add(d);
    };
    for (const it of items) addAncestors(it.dest, it.kind === 'archive');
    if (alsoDir) addAncestors(alsoDir, true);
    const dirs = [...needed].filter((d) => !listed.has(d)).sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
    const found = state.layers.length ? await statImagePaths(this.deps.content, state.layers, dirs) : new Map<string, ImagePathStat | undefined>();
    const now = new Date();
    const out: LayerItem[] = [];
    for (const d of dirs) {
      const st = found.get(d);
      if (!st) out.push({ dest: d, kind: 'directory', mtime: now, created: true });
      // A parent that is a symlink is followed by the unpacker, not replaced: leave it out.
      else if (st.type === 'directory') out.push({ dest: d, kind: 'directory', mtime: st.mtime ?? now, kept: { uid: st.uid, gid: st.gid, mode: st.mode } });
    }
    return out;
  }

  private contextItem(e: ContextEntry, dest: string): LayerItem {
    if (e.stat.isSymbolicLink()) return { dest, kind: 'symlink', entry: e };
    if (e.stat.isDirectory()) return { dest, kind: 'directory', entry: e };
    return { dest, kind: 'file', entry: e };
  }
}
