// What Silo knows about a base image from its reference alone (and, when the engine has it locally,
// from its config): is it Windows, which Windows family, does it ship Windows PowerShell or pwsh,
// and is its default shell known to be `cmd`. "Unknown" is a real answer: a check that needs a fact
// it does not have stays silent.
//
// Facts: Virtualization-Documentation container-base-images.md (Nano Server has no PowerShell, WMI
// or servicing stack; Server Core ships Windows PowerShell 5.1); the .NET images (dotnet-docker):
// the SDK images on Nano Server ship PowerShell 7 (`pwsh`), runtime/aspnet do not; the Windows base
// images leave the default shell `cmd /S /C`; Windows base images publish no `latest` tag since 2019
// (version-compatibility.md).

export type WindowsFamily = 'nanoserver' | 'servercore' | 'server' | 'windows';

export interface ImageReference {
  /** As written (after ARG substitution). */
  raw: string;
  /** Registry host and repository path, lower-cased, e.g. `mcr.microsoft.com/windows/servercore`. */
  repository: string;
  tag?: string;
  digest?: string;
}

export interface BaseImageFacts {
  /** true: a Windows image; false: known not Windows (scratch); undefined: cannot tell. */
  windows: boolean | undefined;
  family?: WindowsFamily;
  /** One of Microsoft's Windows base OS images (mcr.microsoft.com/windows/...). */
  windowsBaseOs: boolean;
  /** Windows PowerShell 5.1 (`powershell.exe`) is present; undefined: cannot tell. */
  windowsPowerShell: boolean | undefined;
  /** PowerShell 7 (`pwsh.exe`) is present; undefined: cannot tell. */
  pwsh: boolean | undefined;
  /** The image's default shell is known to be `cmd /S /C` (no SHELL in its config). */
  defaultShellIsCmd: boolean;
}

/** Parses `[registry/]repo[:tag][@digest]`; Docker Hub names keep their short form. */
export function parseImageReference(raw: string): ImageReference | undefined {
  const s = raw.trim();
  if (s === '' || /\s/.test(s)) return undefined;
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { raw: s, repository: rest.toLowerCase().replace(/^docker\.io\/(library\/)?/, ''), tag, digest };
}

const WINDOWS_BASE_OS: Record<string, WindowsFamily> = {
  'mcr.microsoft.com/windows/nanoserver': 'nanoserver',
  'mcr.microsoft.com/windows/servercore': 'servercore',
  'mcr.microsoft.com/windows/server': 'server',
  'mcr.microsoft.com/windows': 'windows',
  // The Docker Hub names before MCR (deprecated, still in old files).
  'microsoft/nanoserver': 'nanoserver',
  'microsoft/windowsservercore': 'servercore',
};

/** The Windows family a tag names (`8.0-nanoserver-ltsc2022`, `3.12-windowsservercore-1809`). */
function familyFromTag(tag: string | undefined): WindowsFamily | undefined {
  if (!tag) return undefined;
  const t = tag.toLowerCase();
  if (/(^|[-_.])nanoserver($|[-_.])/.test(t)) return 'nanoserver';
  if (/(^|[-_.])(windowsservercore|servercore)($|[-_.])/.test(t)) return 'servercore';
  return undefined;
}

const UNKNOWN: BaseImageFacts = {
  windows: undefined,
  windowsBaseOs: false,
  windowsPowerShell: undefined,
  pwsh: undefined,
  defaultShellIsCmd: false,
};

function windowsFacts(family: WindowsFamily, extra: Partial<BaseImageFacts> = {}): BaseImageFacts {
  return {
    windows: true,
    family,
    windowsBaseOs: false,
    windowsPowerShell: family !== 'nanoserver',
    pwsh: undefined,
    defaultShellIsCmd: false,
    ...extra,
  };
}

/** What the reference alone says about an image. */
export function factsFromReference(ref: ImageReference): BaseImageFacts {
  if (ref.repository === 'scratch') return { ...UNKNOWN, windows: false };
  const base = WINDOWS_BASE_OS[ref.repository];
  if (base) {
    return windowsFacts(base, { windowsBaseOs: true, pwsh: false, defaultShellIsCmd: true });
  }
  const family = familyFromTag(ref.tag);
  const repo = ref.repository;
  if (repo.startsWith('mcr.microsoft.com/dotnet/framework/')) {
    // .NET Framework images are Server Core based whatever the tag says; their shell is not documented.
    return windowsFacts(family ?? 'servercore');
  }
  if (repo.startsWith('mcr.microsoft.com/dotnet/') && family) {
    const sdk = repo === 'mcr.microsoft.com/dotnet/sdk';
    return windowsFacts(family, { pwsh: sdk ? true : family === 'nanoserver' ? false : undefined, defaultShellIsCmd: true });
  }
  if (repo === 'mcr.microsoft.com/powershell' && family) return windowsFacts(family, { pwsh: true });
  if (family) return windowsFacts(family);
  return UNKNOWN;
}

/** Merges what the engine knows of a local image (its config's `os`) into the reference's facts. */
export function withLocalImage(facts: BaseImageFacts, local: { os: string } | undefined): BaseImageFacts {
  if (!local) return facts;
  if (local.os === 'windows' && facts.windows === undefined) return { ...facts, windows: true };
  if (local.os !== 'windows' && facts.windows === undefined) return { ...facts, windows: false };
  return facts;
}
