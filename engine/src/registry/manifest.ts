// Manifests and indexes as registries serve them: the Accept list Silo asks with (containerd
// core/remotes/docker/resolver.go order), and the checks every document passes before anything uses
// it: size and depth caps, schema 2 only (moby refuses schema 1: DeprecatedSchema1ImageError), no
// document that is both an index and a manifest (containerd GHSA-5j5w-g665-5m35), valid descriptors.
import { invalidArgument, notImplemented } from '../errors';
import { parseDigest } from '../image/digest';
import { MAX_METADATA_BYTES, parseBoundedJson } from '../image/json';
import { MediaType, type Descriptor, type Index, type Manifest } from '../image/types';

export const SCHEMA1_TYPES = [
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
];

export const MANIFEST_TYPES: readonly string[] = [MediaType.DockerManifest, MediaType.OciManifest];
export const INDEX_TYPES: readonly string[] = [MediaType.DockerManifestList, MediaType.OciIndex];

/** The Accept header of manifest requests: schema 2 and OCI, then anything (so a schema 1 reply can be named). */
export const MANIFEST_ACCEPT = [MediaType.DockerManifest, MediaType.DockerManifestList, MediaType.OciManifest, MediaType.OciIndex, '*/*'].join(', ');

/** The manifest size cap: 4 MiB, as image/json.ts caps all image metadata. */
export const MAX_MANIFEST_BYTES = MAX_METADATA_BYTES;

export type ManifestDocument =
  | { kind: 'index'; mediaType: string; index: Index }
  | { kind: 'manifest'; mediaType: string; manifest: Manifest };

function checkDescriptor(d: unknown, what: string): Descriptor {
  const x = d as Partial<Descriptor> | null;
  if (!x || typeof x !== 'object') throw invalidArgument(`${what} is not a descriptor`);
  if (typeof x.mediaType !== 'string') throw invalidArgument(`${what} has no mediaType`);
  if (typeof x.digest !== 'string') throw invalidArgument(`${what} has no digest`);
  parseDigest(x.digest);
  if (typeof x.size !== 'number' || !Number.isSafeInteger(x.size) || x.size < 0) throw invalidArgument(`${what} has an invalid size`);
  if (x.urls !== undefined && (!Array.isArray(x.urls) || x.urls.some((u) => typeof u !== 'string'))) throw invalidArgument(`${what} has invalid urls`);
  return x as Descriptor;
}

/** The media type a Content-Type header names, without parameters. */
function baseType(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0].trim().toLowerCase() || undefined;
}

/**
 * Parses and checks a manifest or index document `what` ("manifest busybox:latest"). The media type
 * comes from the document, else the Content-Type; schema 1 is refused with a clear message.
 */
export function parseManifestDocument(bytes: Buffer, contentType: string | undefined, what: string): ManifestDocument {
  const header = baseType(contentType);
  if (header && SCHEMA1_TYPES.includes(header)) throw schema1(what);
  const doc = parseBoundedJson<Record<string, unknown>>(bytes, what, MAX_MANIFEST_BYTES);
  if (doc.schemaVersion === 1) throw schema1(what);
  if (doc.schemaVersion !== 2) throw invalidArgument(`${what} has schemaVersion ${JSON.stringify(doc.schemaVersion)}, not 2`);
  const hasManifests = 'manifests' in doc;
  const hasLayers = 'layers' in doc || 'config' in doc;
  if (hasManifests && hasLayers) {
    throw invalidArgument(`${what} has both "manifests" and "layers"; refusing an ambiguous document`, 'the registry serves a malformed or malicious manifest');
  }
  const bodyType = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  const known = [...MANIFEST_TYPES, ...INDEX_TYPES];
  if (bodyType && header && known.includes(header) && known.includes(bodyType) && header !== bodyType) {
    throw invalidArgument(`${what} says it is ${bodyType} but was served as ${header}`);
  }
  const mediaType = bodyType ?? (header && known.includes(header) ? header : hasManifests ? MediaType.OciIndex : MediaType.OciManifest);
  if (INDEX_TYPES.includes(mediaType) || (hasManifests && !known.includes(mediaType))) {
    if (!Array.isArray(doc.manifests)) throw invalidArgument(`${what} is an index without a "manifests" list`);
    doc.manifests.forEach((m, i) => checkDescriptor(m, `${what} entry ${i}`));
    return { kind: 'index', mediaType, index: doc as unknown as Index };
  }
  if (MANIFEST_TYPES.includes(mediaType)) {
    checkDescriptor(doc.config, `${what} config`);
    if (!Array.isArray(doc.layers)) throw invalidArgument(`${what} has no "layers" list`);
    doc.layers.forEach((l, i) => checkDescriptor(l, `${what} layer ${i}`));
    return { kind: 'manifest', mediaType, manifest: doc as unknown as Manifest };
  }
  throw notImplemented(`${what} has media type ${mediaType}, which is not an image`, 'pull an image manifest or index');
}

function schema1(what: string) {
  return notImplemented(`${what} is a Docker schema 1 image, which is deprecated and not supported`,
    'push the image again with a current docker or silo to get a schema 2 or OCI manifest');
}
