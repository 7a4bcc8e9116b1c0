// Pushing one image (engine.md §2.5): each blob is HEADed first; a blob the registry lacks is
// mounted from another repository of the same registry when one is known, else uploaded, in one PUT
// up to `chunkSize`, in PATCH chunks above it (Content-Range, in order) closed by PUT ?digest=.
// Blobs go 5 at a time (moby's upload default), then the manifest is PUT under the tag with its own
// media type and exactly the stored bytes, so its digest is the one the registry reports.
import { promises as fs } from 'node:fs';
import { shortId } from '../image/digest';
import type { Descriptor } from '../image/types';
import type { ContentStore } from '../store/content';
import type { RegistryClient } from './client';

export type PushPhase = 'preparing' | 'waiting' | 'pushing' | 'pushed' | 'exists' | 'mounted';

export interface PushProgress {
  id: string;
  phase: PushPhase;
  current?: number;
  total?: number;
  /** mounted: the repository (path) the blob was mounted from. */
  from?: string;
}

export interface PushOptions {
  /** Repositories (paths) of the same registry the blobs may be mounted from. */
  mountFrom?: string[];
  /** Blobs larger than this go up in chunks of this size (default 32 MiB). */
  chunkSize?: number;
  concurrency?: number;
  onProgress?: (p: PushProgress) => void;
}

export interface PushImage {
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
}

async function pushBlob(client: RegistryClient, content: ContentStore, repo: string, desc: Descriptor, opts: PushOptions, shown: boolean): Promise<void> {
  const id = shortId(desc.digest);
  const progress = (p: Omit<PushProgress, 'id'>) => { if (shown) opts.onProgress?.({ id, ...p }); };
  if (await client.blobExists(repo, desc.digest)) {
    progress({ phase: 'exists' });
    return;
  }
  let location: string | undefined;
  for (const from of opts.mountFrom ?? []) {
    if (from === repo) continue;
    const r = await client.mountBlob(repo, desc.digest, from).catch(() => undefined);
    if (r?.mounted) {
      progress({ phase: 'mounted', from });
      return;
    }
    if (r) {
      location = r.location; // the registry opened an upload session instead: use it
      break;
    }
  }
  location ??= await client.startUpload(repo);
  const chunkSize = opts.chunkSize ?? 32 * 1024 * 1024;
  const file = content.path(desc.digest);
  progress({ phase: 'pushing', current: 0, total: desc.size });
  if (desc.size <= chunkSize) {
    await client.putBlob(repo, location, desc, () => content.createReadStream(desc.digest));
  } else {
    const h = await fs.open(file, 'r');
    try {
      for (let start = 0; start < desc.size; start += chunkSize) {
        const buf = Buffer.alloc(Math.min(chunkSize, desc.size - start));
        const { bytesRead } = await h.read(buf, 0, buf.length, start);
        location = await client.patchChunk(repo, location, start, buf.subarray(0, bytesRead));
        progress({ phase: 'pushing', current: start + bytesRead, total: desc.size });
      }
    } finally {
      await h.close();
    }
    await client.finishUpload(repo, location, desc.digest);
  }
  progress({ phase: 'pushed', current: desc.size, total: desc.size });
}

/** Pushes the image's blobs and then its manifest under `tag`; returns the manifest digest. */
export async function pushImage(client: RegistryClient, content: ContentStore, repo: string, tag: string, image: PushImage, opts: PushOptions = {}): Promise<string> {
  const blobs = [...image.layers, image.config];
  for (const b of image.layers) opts.onProgress?.({ id: shortId(b.digest), phase: 'preparing' });
  const limit = Math.max(1, opts.concurrency ?? 5);
  let next = 0;
  const worker = async () => {
    while (next < blobs.length) {
      const b = blobs[next++];
      // docker shows the layers only, not the config blob.
      await pushBlob(client, content, repo, b, opts, b !== image.config);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, blobs.length) }, worker));
  const bytes = await content.read(image.manifest.digest);
  return client.putManifest(repo, tag, bytes, image.manifest.mediaType);
}
