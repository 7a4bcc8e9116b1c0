// Digests as the OCI image-spec defines them (descriptor.md "Digests"): algorithm ":" encoded.
// Silo produces sha256 only and accepts sha512 where the spec registers it.
import { createHash } from 'node:crypto';
import { invalidArgument } from '../errors';

const ALGORITHM = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*$/;
const ENCODED = /^[a-zA-Z0-9=_-]+$/;
const REGISTERED: Record<string, RegExp> = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
};

export interface ParsedDigest {
  algorithm: string;
  encoded: string;
}

/** Splits and validates a digest; InvalidArgument says what is wrong with it. */
export function parseDigest(digest: string): ParsedDigest {
  const i = digest.indexOf(':');
  if (i <= 0) throw invalidArgument(`invalid digest "${digest}": expected algorithm:hex`);
  const algorithm = digest.slice(0, i);
  const encoded = digest.slice(i + 1);
  if (!ALGORITHM.test(algorithm) || !ENCODED.test(encoded)) throw invalidArgument(`invalid digest format "${digest}"`);
  const rule = REGISTERED[algorithm];
  if (!rule) throw invalidArgument(`unsupported digest algorithm "${algorithm}" in ${digest}`);
  if (!rule.test(encoded)) throw invalidArgument(`invalid ${algorithm} digest "${digest}": wrong length or not lowercase hex`);
  return { algorithm, encoded };
}

export function isDigest(s: string): boolean {
  try {
    parseDigest(s);
    return true;
  } catch {
    return false;
  }
}

/** True for "sha256:" followed by 64 lowercase hex digits. */
export function isSha256Digest(s: string): boolean {
  return /^sha256:[a-f0-9]{64}$/.test(s);
}

/** The hex part of a sha256 digest; InvalidArgument for anything else. */
export function sha256Hex(digest: string): string {
  if (!isSha256Digest(digest)) {
    parseDigest(digest);
    throw invalidArgument(`expected a sha256 digest, got "${digest}"`);
  }
  return digest.slice(7);
}

export function sha256Digest(data: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The 12-hex-digit short form Docker prints ("docker images" IMAGE ID). */
export function shortId(digest: string): string {
  const i = digest.indexOf(':');
  return digest.slice(i + 1, i + 13);
}
