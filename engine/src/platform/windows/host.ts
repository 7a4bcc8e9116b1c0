// This host, for Windows containers: the OS build and revision (RtlGetVersion + the UBR registry
// value, hcs.md §7), whether the Containers and Hyper-V features are there, and the one guard every
// run goes through before anything is created: Windows containers need a Windows host, and the image
// build must suit the host in the requested isolation (image/windowsCompat.ts) — said before create,
// instead of surfacing 0xc0370101 afterwards.
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkWindowsCompatibility, parseWindowsVersion, type Isolation } from '../../image/windowsCompat';
import { failedPrecondition, invalidArgument, notImplemented, unavailable } from '../../errors';
import { loadLibrary } from './bindings/library';
import { loadNtdll } from './bindings/ntdll';
import { hcsTypes, koffi } from './bindings/types';

/**
 * Fails at once, with one line, when this host cannot run a container of `containerOs` in
 * `isolation`. Pulling and inspecting Windows images works everywhere; running them does not.
 */
export function assertCanRunOnThisHost(containerOs: 'linux' | 'windows', isolation: Isolation, hostPlatform: NodeJS.Platform = process.platform): void {
  const onWindows = hostPlatform === 'win32';
  if (!onWindows && containerOs === 'windows') {
    throw notImplemented(`Windows containers need a Windows host, and this one is ${hostPlatform}`, 'pull and inspect Windows images here; run them on Windows 10 1809 / Server 2019 or later');
  }
  if (!onWindows && isolation === 'hyperv') {
    throw invalidArgument(`--isolation hyperv needs a Windows host, and this one is ${hostPlatform}`, 'leave out --isolation on Linux');
  }
  if (onWindows && containerOs === 'linux') {
    throw notImplemented('Linux containers cannot run on this Windows host', 'run Linux images on a Linux host or in WSL');
  }
}

export interface WindowsHostInfo {
  /** "10.0.20348.2655" */
  version: string;
  build: number;
  revision: number;
  /** computecore.dll loads: the Containers feature is installed. */
  containers: boolean;
  /** The Hyper-V management service is installed (needed for --isolation hyperv). */
  hyperv: boolean;
  cpuCount: number;
}

/**
 * Whether an image of `imageOsVersion` (its config's os.version, e.g. "10.0.17763.6189") runs on a
 * host of `hostBuild` in `isolation`; throws the compatibility rule's sentence and suggestion if not.
 */
export function assertImageRunsOnHost(hostBuild: number, imageOsVersion: string | undefined, isolation: Isolation): void {
  if (!imageOsVersion) return; // images without os.version match any host (containerd); HCS has the last word
  const v = parseWindowsVersion(imageOsVersion);
  if (!v) throw invalidArgument(`The image's os.version ${JSON.stringify(imageOsVersion)} is not a Windows version`, 'rebuild the image from a Microsoft base image');
  const r = checkWindowsCompatibility(hostBuild, v.build, isolation);
  if (!r.compatible) throw failedPrecondition(r.reason.replace(/\.$/, ''), r.suggest?.tag ? `for example FROM mcr.microsoft.com/windows/nanoserver:${r.suggest.tag}` : undefined);
}

let cached: WindowsHostInfo | undefined;

/** Reads this Windows host once. Throws on any other OS. */
export function windowsHostInfo(): WindowsHostInfo {
  if (cached) return cached;
  if (process.platform !== 'win32') throw notImplemented('Windows host facts exist only on Windows');
  const t = hcsTypes();
  const info: Record<string, unknown> = { dwOSVersionInfoSize: koffi.sizeof(t.RTL_OSVERSIONINFOW) };
  const status = loadNtdll().RtlGetVersion(info) as number;
  if (status !== 0) throw unavailable(`RtlGetVersion failed (NTSTATUS 0x${(status >>> 0).toString(16)})`);
  const build = Number(info.dwBuildNumber);
  const revision = readUbr() ?? 0;
  let containers = true;
  try {
    loadLibrary('computecore.dll', '');
  } catch {
    containers = false;
  }
  const system32 = path.join(process.env.SystemRoot ?? 'C:\\Windows', 'System32');
  cached = {
    version: `${info.dwMajorVersion}.${info.dwMinorVersion}.${build}.${revision}`,
    build,
    revision,
    containers,
    hyperv: existsSync(path.join(system32, 'vmms.exe')),
    cpuCount: os.availableParallelism(),
  };
  return cached;
}

/** HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\UBR (hcsshim osversion BuildRevision). */
function readUbr(): number | undefined {
  try {
    const advapi = loadLibrary('advapi32.dll', '');
    const RegGetValueW = advapi.func('int32 RegGetValueW(void *hkey, const char16_t *subKey, const char16_t *value, uint32 flags, void *type, _Out_ uint32 *data, _Inout_ uint32 *size)');
    const HKEY_LOCAL_MACHINE = 0x80000002n;
    const RRF_RT_REG_DWORD = 0x10;
    const data = [0];
    const size = [4];
    const rc = RegGetValueW(HKEY_LOCAL_MACHINE, 'SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion', 'UBR', RRF_RT_REG_DWORD, null, data, size) as number;
    return rc === 0 ? data[0] : undefined;
  } catch {
    return undefined;
  }
}
