// The one place of the Windows host/image compatibility rule. The registry's manifest choice, the
// runtime's pre-create check and the Dockerfile checks all ask this file, so they never disagree.
//
// Sources: Microsoft's version-compatibility matrix (Virtualization-Documentation,
// windowscontainers/deploy-containers/version-compatibility.md); hcsshim osversion
// CheckHostAndContainerCompat; containerd/platforms platform_windows_compat.go. Pure: no OS imports,
// so it is tested on any host (as containerd does).
import type { Isolation } from '../runtime/runtime';

export type { Isolation } from '../runtime/runtime';

export interface WindowsVersion {
  major: number;
  minor: number;
  build: number;
  revision?: number;
}

export type WindowsReleaseName =
  | 'ltsc2016' | '1709' | '1803' | 'ltsc2019' | '1903' | '1909' | '2004' | '20H2'
  | 'win10-21h2' | 'win10-22h2' | 'ltsc2022' | 'win11-21h2' | 'win11-22h2' | 'win11-23h2'
  | '23H2' | 'ltsc2025' | 'win11-25h2';

export interface WindowsRelease {
  name: WindowsReleaseName;
  /** A Long-Term Servicing Channel server release: the stable-ABI anchors of the rule. */
  ltsc: boolean;
  /** Image tag spellings that mean this build (MCR's servercore / nanoserver tags). */
  tags: string[];
}

/** Windows builds by number (hcsshim osversion/windowsbuilds.go; MCR tag lists). */
export const WindowsReleases: Readonly<Record<number, WindowsRelease>> = {
  14393: { name: 'ltsc2016', ltsc: true, tags: ['ltsc2016', '2016', '1607'] },
  16299: { name: '1709', ltsc: false, tags: ['1709'] },
  17134: { name: '1803', ltsc: false, tags: ['1803'] },
  17763: { name: 'ltsc2019', ltsc: true, tags: ['ltsc2019', '2019', '1809'] },
  18362: { name: '1903', ltsc: false, tags: ['1903'] },
  18363: { name: '1909', ltsc: false, tags: ['1909'] },
  19041: { name: '2004', ltsc: false, tags: ['2004'] },
  19042: { name: '20H2', ltsc: false, tags: ['20h2'] },
  19044: { name: 'win10-21h2', ltsc: false, tags: [] },
  19045: { name: 'win10-22h2', ltsc: false, tags: [] },
  20348: { name: 'ltsc2022', ltsc: true, tags: ['ltsc2022', '2022'] },
  22000: { name: 'win11-21h2', ltsc: false, tags: [] },
  22621: { name: 'win11-22h2', ltsc: false, tags: [] },
  22631: { name: 'win11-23h2', ltsc: false, tags: [] },
  25398: { name: '23H2', ltsc: false, tags: ['23h2'] },
  26100: { name: 'ltsc2025', ltsc: true, tags: ['ltsc2025', '2025'] },
  26200: { name: 'win11-25h2', ltsc: false, tags: [] },
};

/** The first build with the stable container ABI (Windows Server 2022). */
const STABLE_ABI_BUILD = 20348;
/** LTSC builds that anchor the stable-ABI rule, oldest first (hcsshim's list). */
const STABLE_ABI_LTSC = [20348, 26100];

/** "10.0.20348.2655" (or "10.0.20348") -> its parts; anything else -> undefined. */
export function parseWindowsVersion(s: string): WindowsVersion | undefined {
  const m = /^(\d{1,5})\.(\d{1,5})\.(\d{1,6})(?:\.(\d{1,9}))?$/.exec(s.trim());
  if (!m) return undefined;
  const v: WindowsVersion = { major: Number(m[1]), minor: Number(m[2]), build: Number(m[3]) };
  if (m[4] !== undefined) v.revision = Number(m[4]);
  return v;
}

/** Numeric comparison of two versions (never as strings: "10.0.9999" < "10.0.10000"). */
export function compareWindowsVersions(a: WindowsVersion, b: WindowsVersion): number {
  return a.major - b.major || a.minor - b.minor || a.build - b.build || (a.revision ?? 0) - (b.revision ?? 0);
}

const tagToBuild = new Map<string, number>();
for (const [build, release] of Object.entries(WindowsReleases)) {
  for (const tag of release.tags) tagToBuild.set(tag, Number(build));
}

/**
 * The Windows build an image tag names, from the tag alone: `servercore:ltsc2022`, `ltsc2022`, `2022`,
 * `10.0.20348.2655`, `1809`, `4.8-windowsservercore-ltsc2019`, `nanoserver-1809`. Undefined when the
 * tag does not say (then only the image's `os.version` can tell).
 */
export function buildFromImageTag(tag: string): number | undefined {
  let t = tag.trim();
  const at = t.indexOf('@');
  if (at >= 0) t = t.slice(0, at);
  // A full reference: the tag is what follows the last ':' after the last '/' (a registry port is not a tag).
  const colon = t.lastIndexOf(':');
  if (colon >= 0 && colon > t.lastIndexOf('/')) t = t.slice(colon + 1);
  else if (t.includes('/')) return undefined;
  t = t.toLowerCase();

  const full = /(?:^|[-_])10\.0\.(\d{4,5})(?:\.\d+)?(?=$|[-_])/.exec(t);
  if (full) return Number(full[1]);
  const tokens = t.split(/[-_]/);
  for (let i = tokens.length - 1; i >= 0; i--) {
    const b = tagToBuild.get(tokens[i]);
    if (b !== undefined) return b;
  }
  return undefined;
}

/** "ltsc2022 (build 20348)" or "build 22631". */
function describeBuild(build: number): string {
  const r = WindowsReleases[build];
  return r ? `build ${build} (${r.name})` : `build ${build}`;
}

/** The image tag to suggest for a host: the newest release the host runs with process isolation. */
function suggestedTagFor(hostBuild: number): string | undefined {
  const candidates = Object.keys(WindowsReleases)
    .map(Number)
    .filter((b) => WindowsReleases[b].tags.length > 0 && processIsolationAllows(hostBuild, b))
    .sort((a, b) => b - a);
  return candidates.length > 0 ? WindowsReleases[candidates[0]].tags[0] : undefined;
}

/**
 * Process isolation (hcsshim CheckHostAndContainerCompat): before the stable ABI the builds must be
 * equal; from Windows Server 2022 on, a host accepts images from the newest LTSC strictly below its
 * own build (20348 at least) up to its own build.
 */
function processIsolationAllows(hostBuild: number, imageBuild: number): boolean {
  if (hostBuild < STABLE_ABI_BUILD) return hostBuild === imageBuild;
  return imageBuild >= stableAbiFloor(hostBuild) && imageBuild <= hostBuild;
}

/** The oldest image build a stable-ABI host runs with process isolation. */
function stableAbiFloor(hostBuild: number): number {
  let floor = STABLE_ABI_BUILD;
  for (const ltsc of STABLE_ABI_LTSC) if (ltsc < hostBuild) floor = ltsc;
  return floor;
}

export interface WindowsCompatibility {
  compatible: boolean;
  /** One user-facing sentence. */
  reason: string;
  /** What would work instead, when something would. */
  suggest?: { isolation?: Isolation; tag?: string };
}

/**
 * Whether an image of `imageBuild` runs on a host of `hostBuild` in `isolation`. Hyper-V isolation runs
 * any image whose build is at most the host's; process isolation follows the rule above.
 */
export function checkWindowsCompatibility(hostBuild: number, imageBuild: number, isolation: Isolation): WindowsCompatibility {
  const host = describeBuild(hostBuild);
  const image = describeBuild(imageBuild);
  const tag = suggestedTagFor(hostBuild);
  if (imageBuild > hostBuild) {
    return {
      compatible: false,
      reason: `The image is Windows ${image}, newer than this Windows ${host} host; a newer image never runs on an older host, in either isolation.`,
      suggest: tag ? { tag } : undefined,
    };
  }
  if (isolation === 'hyperv') {
    return { compatible: true, reason: `Windows ${image} images run with Hyper-V isolation on this Windows ${host} host.` };
  }
  if (processIsolationAllows(hostBuild, imageBuild)) {
    return { compatible: true, reason: `Windows ${image} images run with process isolation on this Windows ${host} host.` };
  }
  const rule = hostBuild < STABLE_ABI_BUILD
    ? `a Windows ${host} host runs process-isolated containers only from images of the same build`
    : `process isolation on a Windows ${host} host needs an image of ${describeBuild(stableAbiFloor(hostBuild))} up to the host's own build`;
  return {
    compatible: false,
    reason: `The image is Windows ${image}, but ${rule}; use --isolation hyperv${tag ? ` or a base image tagged ${tag}` : ''}.`,
    suggest: tag ? { isolation: 'hyperv', tag } : { isolation: 'hyperv' },
  };
}

/**
 * The index of the best Windows manifest for this host and isolation: the compatible one with the
 * highest `os.version` (compared numerically; the first on a tie, as image-spec asks). An entry
 * without `os.version` matches but ranks below any versioned match (containerd). `os.features` such
 * as `win32k` do not decide (containerd strips them). -1 when none fits.
 */
export function pickWindowsManifest(
  hostBuild: number,
  isolation: Isolation,
  candidates: Array<{ osVersion?: string; osFeatures?: string[] }>,
): number {
  let best = -1;
  let bestVersion: WindowsVersion | undefined;
  candidates.forEach((c, i) => {
    let v: WindowsVersion | undefined;
    if (c.osVersion !== undefined && c.osVersion !== '') {
      v = parseWindowsVersion(c.osVersion);
      if (!v || v.major !== 10 || v.minor !== 0) return;
      if (!checkWindowsCompatibility(hostBuild, v.build, isolation).compatible) return;
    }
    if (best === -1) {
      best = i;
      bestVersion = v;
      return;
    }
    if (v && (!bestVersion || compareWindowsVersions(v, bestVersion) > 0)) {
      best = i;
      bestVersion = v;
    }
  });
  return best;
}
