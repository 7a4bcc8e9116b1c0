// Loading a DLL lazily and turning "missing" into one clear error. hcsshim resolves every export
// lazily and tolerates absent optional ones; koffi.load throws when the DLL itself is absent.
import { unavailable } from '../../../errors';
import { koffi, type LibraryHandle } from './types';

export function loadLibrary(path: string, feature: string): LibraryHandle {
  try {
    return koffi.load(path);
  } catch (err) {
    throw unavailable(`${path} could not be loaded (${(err as Error).message.split('\n')[0]})`, `${feature}`);
  }
}

/** Memoises a loader so a DLL is opened on first use only. */
export function lazy<T>(load: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= load());
}
