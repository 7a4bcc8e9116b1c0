// Image references with Docker's grammar and normalisation (distribution/reference: regexp.go,
// normalize.go ParseNormalizedNamed / splitDockerDomain / FamiliarString, and ParseDockerRef):
//
//   reference := name [ ":" tag ] [ "@" digest ]
//   name      := [domain "/"] path-component ["/" path-component]*
//   busybox -> docker.io/library/busybox:latest, familiar form busybox:latest
import { invalidArgument, SiloError } from '../errors';
import { parseDigest } from './digest';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
const NAME_TOTAL_LENGTH_MAX = 255;

const alphaNumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphaNumeric}(?:${separator}${alphaNumeric})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domain = `(?:${domainComponent}(?:\\.${domainComponent})*|${ipv6})(?::[0-9]+)?`;
const name = `(?:${domain}/)?${pathComponent}(?:/${pathComponent})*`;
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${name})(?::(${tag}))?(?:@(${digest}))?$`);
const ANCHORED_IDENTIFIER = /^[a-f0-9]{64}$/;
const TAG = new RegExp(`^${tag}$`);

export interface Reference {
  /** Registry host and optional port: "docker.io", "localhost:5000". */
  domain: string;
  /** Repository path inside the registry: "library/busybox". */
  path: string;
  tag?: string;
  digest?: string;
}

function formatError(reason?: string): SiloError {
  return invalidArgument(reason ? `invalid reference format: ${reason}` : 'invalid reference format', 'expected NAME[:TAG][@DIGEST], e.g. busybox:latest');
}

function splitDockerDomain(s: string): { domain: string; remainder: string } {
  const i = s.indexOf('/');
  let d: string;
  let remainder: string;
  const first = i === -1 ? '' : s.slice(0, i);
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    d = DEFAULT_DOMAIN;
    remainder = s;
  } else {
    d = first;
    remainder = s.slice(i + 1);
  }
  if (d === LEGACY_DEFAULT_DOMAIN) d = DEFAULT_DOMAIN;
  if (d === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain: d, remainder };
}

/** Docker's reference.Parse over an already-normalised string. */
function parseStrict(s: string): Reference {
  const m = REFERENCE.exec(s);
  if (!m) {
    if (s === '') throw formatError('repository name must have at least one component');
    if (REFERENCE.test(s.toLowerCase())) throw formatError('repository name must be lowercase');
    throw formatError();
  }
  const [, fullName, t, dg] = m;
  if (fullName.length > NAME_TOTAL_LENGTH_MAX) throw formatError(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  if (dg !== undefined) {
    try {
      parseDigest(dg);
    } catch (err) {
      throw formatError(`invalid digest format: ${(err as Error).message}`);
    }
  }
  const slash = fullName.indexOf('/');
  return { domain: fullName.slice(0, slash), path: fullName.slice(slash + 1), tag: t, digest: dg };
}

/**
 * Parses and normalises a reference as the docker CLI does (ParseNormalizedNamed): the domain
 * defaults to docker.io and single-component names gain "library/". No tag is added.
 */
export function parseReference(s: string): Reference {
  if (ANCHORED_IDENTIFIER.test(s)) {
    throw invalidArgument(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`, 'refer to an image ID as sha256:<hex> or by a prefix');
  }
  const { domain: d, remainder } = splitDockerDomain(s);
  const tagSep = remainder.indexOf(':');
  const at = remainder.indexOf('@');
  const end = [tagSep, at].filter((x) => x >= 0).reduce((a, b) => Math.min(a, b), remainder.length);
  const remoteName = remainder.slice(0, end);
  if (remoteName.toLowerCase() !== remoteName) throw formatError('repository name must be lowercase');
  return parseStrict(`${d}/${remainder}`);
}

/**
 * The reference an image is stored and looked up under (ParseDockerRef): "latest" when neither tag
 * nor digest is given; a digest wins over a tag given with it.
 */
export function normalizeReference(s: string): Reference {
  const r = parseReference(s);
  if (r.digest) return { domain: r.domain, path: r.path, digest: r.digest };
  return { ...r, tag: r.tag ?? DEFAULT_TAG };
}

/** Checks a tag alone ("docker tag IMG name:TAG"). */
export function validateTag(t: string): void {
  if (!TAG.test(t)) throw invalidArgument(`invalid tag format "${t}"`, 'a tag is up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"');
}

/** "docker.io/library/busybox" */
export function repositoryName(r: Reference): string {
  return `${r.domain}/${r.path}`;
}

/** The full normalised string: "docker.io/library/busybox:latest". */
export function formatReference(r: Reference): string {
  return repositoryName(r) + (r.tag ? `:${r.tag}` : '') + (r.digest ? `@${r.digest}` : '');
}

/** The repository name as users write it: "busybox", "localhost:5000/a/b". */
export function familiarName(r: Reference): string {
  if (r.domain !== DEFAULT_DOMAIN) return repositoryName(r);
  if (r.path.startsWith(OFFICIAL_REPO_PREFIX) && !r.path.slice(OFFICIAL_REPO_PREFIX.length).includes('/')) {
    return r.path.slice(OFFICIAL_REPO_PREFIX.length);
  }
  return r.path;
}

/** The reference as users write it: "busybox:latest", "busybox@sha256:...". */
export function familiarString(r: Reference): string {
  return familiarName(r) + (r.tag ? `:${r.tag}` : '') + (r.digest ? `@${r.digest}` : '');
}
