// Silo's own messages between the client and the Dockerfile language server, one namespace per
// message (the vscode-eslint `customMessages.ts` shape). The client imports this file.
//
// The types are built with the vscode-languageserver-protocol the client uses; the server registers
// its handlers by `method`, so the two sides never depend on one copy of vscode-jsonrpc.
import { NotificationType } from 'vscode-languageserver-protocol';

export type Isolation = 'process' | 'hyperv';

/** What the engine knows of the machine that will build and run the images. */
export interface HostFacts {
  os: 'linux' | 'windows';
  /** The Windows build number (e.g. 20348); absent on Linux. */
  build?: number;
  /** The isolation modes this host supports (empty on Linux). */
  isolations: Isolation[];
  /** The isolation a build or run uses when the user does not choose (`silo.isolation` / host default). */
  defaultIsolation: Isolation;
}

/** Client -> server: the host facts, sent after `initialized` and again whenever they change. */
export namespace HostFactsNotification {
  export const method = 'silo/hostFacts';
  export const type = new NotificationType<HostFacts>(method);
}

/** One image the engine has locally. */
export interface ImageFact {
  /** A reference the image is known by, e.g. `mcr.microsoft.com/windows/servercore:ltsc2022`. */
  ref: string;
  /** The config's `os`: `windows` or `linux`. */
  os: string;
  /** The config's `os.version`, e.g. `10.0.20348.2655` (Windows images). */
  osVersion?: string;
}

export interface ImageFacts {
  images: ImageFact[];
}

/** Client -> server: the engine's local images (the whole list, replacing the last one). */
export namespace ImageFactsNotification {
  export const method = 'silo/imageFacts';
  export const type = new NotificationType<ImageFacts>(method);
}

/** One build step of the last build of a Dockerfile. */
export interface BuildCacheStep {
  /** 0-based line of the step's instruction. */
  line: number;
  cached: boolean;
  /** Why the step missed the cache (e.g. "COPY source changed: src/app.cs"); absent when cached. */
  reason?: string;
}

export interface BuildCacheHints {
  /** The Dockerfile's document URI. */
  uri: string;
  steps: BuildCacheStep[];
}

/** Client (from the builder) -> server: cache hits and misses of the last build, shown as code lenses. */
export namespace BuildCacheHintsNotification {
  export const method = 'silo/buildCacheHints';
  export const type = new NotificationType<BuildCacheHints>(method);
}
