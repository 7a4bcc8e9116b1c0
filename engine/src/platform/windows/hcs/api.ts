// The HCS client's dependencies in one value: the computecore functions, the LocalFree that owns
// their result strings, and the callback hub. Library paths are injectable (the contract test loads a
// fixture that exports the same names); nothing is loaded until first use.
import { callbackHub, type CallbackHub } from '../bindings/callbacks';
import { loadComputeCore, type ComputeCore } from '../bindings/computecore';
import { loadKernel32 } from '../bindings/kernel32';
import type { NativeFunction } from '../bindings/types';

export interface HcsApi {
  core: ComputeCore;
  /** Frees a result string: kernel32!LocalFree (the HCS docs' allocator). */
  free: (p: unknown) => unknown;
  hub: CallbackHub;
}

export interface HcsLibraryPaths {
  computecore?: string;
  kernel32?: string;
}

export function loadHcsApi(paths: HcsLibraryPaths = {}): HcsApi {
  const core = loadComputeCore(paths.computecore);
  const k32 = loadKernel32(paths.kernel32);
  return { core, free: (p) => k32.LocalFree(p), hub: callbackHub() };
}

/** Runs a native call on the libuv pool: for Close* and any call that may wait for a callback. */
export function callAsync<T = unknown>(fn: NativeFunction, ...args: unknown[]): Promise<T> {
  return new Promise<T>((resolve, reject) => fn.async(...args, (err: unknown, result: T) => (err ? reject(err) : resolve(result))));
}
