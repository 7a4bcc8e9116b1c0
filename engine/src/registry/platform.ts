// Which manifest of an index this host (or --platform) pulls. Linux entries match by os,
// architecture and variant (containerd platforms.Only: arm64 means v8, arm without a variant v7).
// Windows entries go through image/windowsCompat.ts pickWindowsManifest, the one compatibility rule.
// Entries of unknown media types are skipped (image-spec image-index.md).
import { invalidArgument, notFound } from '../errors';
import { pickWindowsManifest, parseWindowsVersion, type Isolation } from '../image/windowsCompat';
import type { Descriptor, Index, Platform } from '../image/types';
import { INDEX_TYPES, MANIFEST_TYPES } from './manifest';

export interface WantedPlatform {
  os: string;
  architecture: string;
  variant?: string;
  /** Windows: the host's (or --platform's) version "10.0.<build>"; none picks the newest entry. */
  osVersion?: string;
  /** Windows: which isolation the image must run in (default process). */
  isolation?: Isolation;
}

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', x64: 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm', i386: '386', ia32: '386' };

/** The host's platform in OCI spelling. */
export function hostPlatform(): WantedPlatform {
  const arch = ARCH_ALIASES[process.arch] ?? process.arch;
  return { os: process.platform === 'win32' ? 'windows' : 'linux', architecture: arch, ...(arch === 'arm' ? { variant: 'v7' } : {}) };
}

/** `--platform os[/arch[/variant]][:osversion]`, docker's spelling (containerd platforms.Parse plus the Windows version suffix). */
export function parsePlatform(s: string, host: WantedPlatform = hostPlatform()): WantedPlatform {
  const m = /^([a-z0-9_-]+)(?:\/([a-z0-9_-]+))?(?:\/([a-z0-9_-]+))?(?::([0-9.]+))?$/i.exec(s.trim());
  if (!m) throw invalidArgument(`invalid platform "${s}"`, 'expected os[/arch[/variant]], e.g. linux/amd64 or windows/amd64:10.0.20348');
  const os = m[1].toLowerCase();
  const architecture = ARCH_ALIASES[m[2]?.toLowerCase() ?? ''] ?? m[2]?.toLowerCase() ?? host.architecture;
  const out: WantedPlatform = { os, architecture };
  if (m[3]) out.variant = m[3].toLowerCase();
  if (m[4]) {
    if (os !== 'windows') throw invalidArgument(`an OS version is only meaningful for windows, not in "${s}"`);
    if (!parseWindowsVersion(m[4])) throw invalidArgument(`invalid Windows version "${m[4]}"`, 'expected 10.0.<build>, e.g. 10.0.20348');
    out.osVersion = m[4];
  }
  if (os === host.os && os === 'windows' && !out.osVersion) out.osVersion = host.osVersion;
  return out;
}

export function formatPlatform(p: { os: string; architecture: string; variant?: string; osVersion?: string }): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}${p.osVersion ? `:${p.osVersion}` : ''}`;
}

function variantMatches(arch: string, wanted: string | undefined, got: string | undefined): boolean {
  const norm = (v: string | undefined) => (arch === 'arm64' && (v === undefined || v === '') ? 'v8' : arch === 'arm' && !v ? 'v7' : v ?? '');
  if (wanted === undefined && arch !== 'arm') return true;
  return norm(wanted) === norm(got);
}

/** The manifest descriptor to pull from an index; NotFound names what the index offers. */
export function selectManifest(index: Index, wanted: WantedPlatform, what: string): Descriptor {
  const usable = index.manifests.filter((d) => MANIFEST_TYPES.includes(d.mediaType) || INDEX_TYPES.includes(d.mediaType));
  const images = usable.filter((d) => MANIFEST_TYPES.includes(d.mediaType) && d.platform);
  const sameArch = images.filter((d) => d.platform!.os === wanted.os && d.platform!.architecture === wanted.architecture);
  let chosen: Descriptor | undefined;
  if (wanted.os === 'windows') {
    const hostBuild = wanted.osVersion ? parseWindowsVersion(wanted.osVersion)!.build : Number.MAX_SAFE_INTEGER;
    const isolation = wanted.osVersion ? (wanted.isolation ?? 'process') : 'hyperv';
    const i = pickWindowsManifest(hostBuild, isolation, sameArch.map((d) => ({ osVersion: d.platform!['os.version'], osFeatures: d.platform!['os.features'] })));
    chosen = i >= 0 ? sameArch[i] : undefined;
  } else {
    chosen = sameArch.find((d) => variantMatches(wanted.architecture, wanted.variant, d.platform!.variant));
  }
  if (!chosen) {
    const offered = [...new Set(images.map((d) => formatPlatform({ ...d.platform!, osVersion: d.platform!['os.version'] })))].join(', ') || 'no platforms';
    throw notFound(`no matching manifest for ${formatPlatform(wanted)}${wanted.isolation ? ` (${wanted.isolation} isolation)` : ''} in the manifest list entries of ${what}`,
      `it offers ${offered}; choose one with --platform`);
  }
  return chosen;
}

export type { Platform };
