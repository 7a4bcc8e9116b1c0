// Build stages: each FROM, the image it starts from (through `FROM <stage>` chains and ARG defaults
// declared before the first FROM), and the shell in force at each instruction (SHELL is part of the
// image config, so a stage built on another stage inherits it).
import type { ImageFact } from '../protocol';
import { factsFromReference, parseImageReference, withLocalImage, type BaseImageFacts, type ImageReference } from './baseImages';
import { jsonArrayOf, splitFlags, splitWords, type Dockerfile, type Instruction, type Word } from './parse';

export interface Stage {
  index: number;
  from: Instruction;
  /** `AS name`, lower-cased. */
  name?: string;
  /** The base word as written in FROM (offsets in `from.args`). */
  baseWord?: Word;
  /** The base after ARG substitution; undefined when a variable has no default. */
  base?: string;
  /** The earlier stage this one builds on. */
  parent?: Stage;
  /** The image at the root of the chain (this stage's, or its ancestor's). */
  rootImage?: ImageReference;
  facts: BaseImageFacts;
  /** Instructions after FROM up to the next FROM. */
  body: Instruction[];
}

const UNKNOWN_FACTS: BaseImageFacts = {
  windows: undefined,
  windowsBaseOs: false,
  windowsPowerShell: undefined,
  pwsh: undefined,
  defaultShellIsCmd: false,
};

/** `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME:+alt}` with the given values; undefined if one is missing. */
export function substituteArgs(s: string, values: Map<string, string>): string | undefined {
  let missing = false;
  const out = s.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_m, braced, op, word, bare) => {
    const name = (braced ?? bare) as string;
    const v = values.get(name);
    if (op === '-') return v !== undefined && v !== '' ? v : (word as string);
    if (op === '+') return v !== undefined && v !== '' ? (word as string) : '';
    if (v === undefined) missing = true;
    return v ?? '';
  });
  return missing ? undefined : out;
}

function localImage(ref: ImageReference, images: readonly ImageFact[]): ImageFact | undefined {
  const tag = ref.tag ?? 'latest';
  return images.find((img) => {
    const other = parseImageReference(img.ref);
    return other !== undefined && other.repository === ref.repository && (other.tag ?? 'latest') === tag;
  });
}

/** The local image the engine reported for a reference, if any. */
export function findLocalImage(ref: ImageReference, images: readonly ImageFact[]): ImageFact | undefined {
  return localImage(ref, images);
}

export function resolveStages(file: Dockerfile, images: readonly ImageFact[] = []): Stage[] {
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  let current: Stage | undefined;
  for (const ins of file.instructions) {
    if (ins.keyword === 'FROM') {
      const words = splitWords(ins.args, file.escape);
      const { rest } = splitFlags(words);
      const baseWord = rest[0];
      const name = rest.length >= 3 && rest[1].text.toLowerCase() === 'as' ? rest[2].text.toLowerCase() : undefined;
      const base = baseWord ? substituteArgs(baseWord.text, globalArgs) : undefined;
      const parent = base ? stages.find((s) => s.name === base.toLowerCase()) : undefined;
      let rootImage: ImageReference | undefined;
      let facts = UNKNOWN_FACTS;
      if (parent) {
        rootImage = parent.rootImage;
        facts = parent.facts;
      } else if (base) {
        rootImage = parseImageReference(base);
        if (rootImage) facts = withLocalImage(factsFromReference(rootImage), localImage(rootImage, images));
      }
      current = { index: stages.length, from: ins, name, baseWord, base, parent, rootImage, facts, body: [] };
      stages.push(current);
      continue;
    }
    if (!current) {
      // ARG before the first FROM: its default is visible to FROM lines.
      if (ins.keyword === 'ARG') {
        for (const w of splitWords(ins.args, file.escape)) {
          const eq = w.text.indexOf('=');
          if (eq > 0) globalArgs.set(w.text.slice(0, eq), unquote(w.text.slice(eq + 1)));
        }
      }
      continue;
    }
    current.body.push(ins);
  }
  return stages;
}

function unquote(s: string): string {
  if (s.length >= 2 && (s[0] === '"' || s[0] === "'") && s[s.length - 1] === s[0]) return s.slice(1, -1);
  return s;
}

export const CMD_SHELL: readonly string[] = ['cmd', '/S', '/C'];

/**
 * The shell in force for `ins` in `stage` (before it, when `ins` is itself a SHELL), or undefined
 * when it cannot be known (an image whose config Silo has not seen may set one).
 */
export function shellAt(stage: Stage, ins?: Instruction): readonly string[] | undefined {
  for (let k = (ins ? stage.body.indexOf(ins) : stage.body.length) - 1; k >= 0; k--) {
    const b = stage.body[k];
    if (b.keyword === 'SHELL') return jsonArrayOf(b);
  }
  if (stage.parent) return shellAt(stage.parent);
  return stage.facts.defaultShellIsCmd ? CMD_SHELL : undefined;
}

/** The program of a shell argv, lower-cased, without directory or `.exe`. */
export function shellProgram(argv: readonly string[] | undefined): string | undefined {
  if (!argv || argv.length === 0) return undefined;
  return argv[0].toLowerCase().replace(/^.*[\\/]/, '').replace(/\.exe$/, '');
}

/** The stage an instruction belongs to. */
export function stageOf(stages: readonly Stage[], ins: Instruction): Stage | undefined {
  for (let k = stages.length - 1; k >= 0; k--) if (stages[k].from.startLine <= ins.startLine) return stages[k];
  return undefined;
}

/** Every instruction of a stage's chain of stages, root first (what has happened to the filesystem). */
export function chainBodies(stage: Stage): Instruction[] {
  return stage.parent ? [...chainBodies(stage.parent), ...stage.body] : [...stage.body];
}
