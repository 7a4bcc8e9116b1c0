// Docker's `-v` / HostConfig.Binds spec for Windows containers: `C:\host\dir:C:\app`, `c:\x:c:\y:ro`,
// `\\.\pipe\name:\\.\pipe\name`, `name:C:\data`. The rule is moby's windows parser
// (volume/mounts/windows_parser.go: rxHostDir, rxName, rxPipe, rxDestination, rxMode, splitRawSpec,
// parseMount, validateMountConfigReg), written out here from its facts, with these differences:
// - case is kept (moby lowercases the whole spec before splitting; NTFS paths match either way);
// - the host-dir pattern is written without nested repetition, so a long bad spec cannot make a
//   backtracking engine take exponential time (Go's regexp is linear; JavaScript's is not);
// - `\\.\pipe\` must be spelled with a dot (moby's rxPipe has an unescaped `.`, and then types a
//   `\\x\pipe\` source as a volume and fails it by name);
// - whether a bind source exists and is a directory is the service's question on the host, not the
//   parser's;
// - a directory bound onto a pipe (`c:\dir:\\.\pipe\x`) is refused here, not later by HCS.
import { invalidArgument } from '../errors';

export interface WindowsMountSpec {
  /** `bind`: a host directory; `npipe`: a host named pipe; `volume`: named (`source` set) or anonymous. */
  type: 'bind' | 'npipe' | 'volume';
  /** Host directory, host pipe or volume name; '' for an anonymous volume. Slashes turned to backslashes. */
  source: string;
  /** The container path or pipe, backslashes. */
  target: string;
  readonly: boolean;
}

const NAME_CHAR = String.raw`[^\\/:*?"<>|\r\n]`;
/** An absolute host directory, `c:\`, `c:\program files\x\`, `\\?\c:\long` (rxHostDir). */
const HOST_DIR = String.raw`(?:\\\\\?\\)?[a-z]:[\\/](?:${NAME_CHAR}+(?:[\\/]${NAME_CHAR}+)*[\\/]?)?`;
/** A volume name (rxName). */
const NAME = `${NAME_CHAR}+`;
/** `\\.\pipe\name`, either slash (rxPipe). */
const PIPE = String.raw`[/\\]{2}\.[/\\]pipe[/\\][^:*?"<>|\r\n]+`;
/** A container path (a drive letter, then any components; `|` allowed as moby allows it) or a pipe (rxDestination). */
const DESTINATION = String.raw`(?:\\\\\?\\)?[a-z]:(?:[\\/][^\\/:*?"<>\r\n]+)*[\\/]?|${PIPE}`;

const SPLIT = new RegExp(`^(?:(?<source>${HOST_DIR}|${NAME}|${PIPE}):)?(?<destination>${DESTINATION})(?::(?<mode>ro|rw))?$`, 'i');
const HOST_DIR_RE = new RegExp(`^${HOST_DIR}$`, 'i');
const DESTINATION_RE = new RegExp(`^(?:${DESTINATION})$`, 'i');
const VOLUME_NAME_RE = new RegExp(`^${NAME}$`, 'i');
const RESERVED_RE = /^(con|prn|nul|aux|com[1-9]|lpt[1-9])$/i;
const PIPE_PREFIX_RE = /^\\\\\.\\pipe\\/i;

const HINT = 'use C:\\host\\dir:C:\\container\\dir[:ro] or \\\\.\\pipe\\name:\\\\.\\pipe\\name';

/** Parses one Binds entry as dockerd on Windows does; throws InvalidArgument with moby's reason. */
export function parseWindowsBind(raw: string): WindowsMountSpec {
  const bad = (why?: string) => invalidArgument(`invalid volume specification: '${raw}'${why ? `: ${why}` : ''}`, HINT);
  const m = SPLIT.exec(raw);
  if (!m?.groups) throw bad();
  const { source, destination, mode } = m.groups as { source?: string; destination: string; mode?: string };
  // `D:\path:rw` splits as destination + mode with no source, which moby refuses (a mode needs a source).
  if (source === undefined && mode !== undefined) throw bad();
  const spec: WindowsMountSpec = {
    type: 'volume',
    source: (source ?? '').replace(/\//g, '\\'),
    target: destination.replace(/\//g, '\\'),
    readonly: mode?.toLowerCase() === 'ro',
  };
  if (PIPE_PREFIX_RE.test(spec.source)) spec.type = 'npipe';
  else if (HOST_DIR_RE.test(spec.source)) spec.type = 'bind';
  validate(spec, bad);
  return { ...spec, source: trimSlash(spec.source), target: trimSlash(spec.target) };
}

function validate(spec: WindowsMountSpec, bad: (why?: string) => Error): void {
  const target = spec.target.toLowerCase();
  if (target === 'c:' || target === 'c:\\') throw bad('destination path cannot be `c:` or `c:\\`');
  if (!DESTINATION_RE.test(spec.target)) throw bad(`invalid mount path: '${spec.target}'`);
  switch (spec.type) {
    case 'bind':
      if (!DESTINATION_RE.test(spec.source)) throw bad(`invalid mount path: '${spec.source}' mount path must be absolute`);
      // moby lets this through its parser (and fails later in HCS); a directory never maps onto a pipe.
      if (PIPE_PREFIX_RE.test(spec.target)) throw bad(`'${spec.source}' is not a valid pipe path`);
      return;
    case 'npipe':
      if (spec.readonly) throw bad('a named pipe cannot be mounted read-only');
      if (!PIPE_PREFIX_RE.test(spec.target)) throw bad(`'${spec.target}' is not a valid pipe path`);
      return;
    case 'volume':
      if (!spec.source) {
        if (spec.readonly) throw bad('must not set ReadOnly mode when using anonymous volumes');
        return;
      }
      if (!VOLUME_NAME_RE.test(spec.source)) throw bad('invalid volume name');
      if (RESERVED_RE.test(spec.source)) throw bad(`volume name "${spec.source}" cannot be a reserved word for Windows filenames`);
  }
}

/** moby parseMountSpec: a trailing backslash goes, except in a drive root such as `c:\`. */
function trimSlash(p: string): string {
  return p.length > 3 && p.endsWith('\\') ? p.slice(0, -1) : p;
}
