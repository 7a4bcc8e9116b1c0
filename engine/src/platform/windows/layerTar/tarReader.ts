// Windows layer tar -> LayerEntry, checked as it streams (go-winio backuptar is the format's
// reference writer). Each file or stream body must be read whole, or not at all, before the next
// entry is asked for; an untouched body is skipped.
import type { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { invalidArgument } from '../../../errors';
import type { LayerEntry } from './entry';
import { LayerPathGuard } from './layerPath';
import { fileInfoFromPax, PaxKey } from './paxRecords';

const WHITEOUT_PREFIX = '.wh.';

interface TrackedBody {
  iterable: AsyncIterable<Uint8Array>;
  finish(): Promise<void>;
}

function track(stream: AsyncIterable<Uint8Array>, name: string): TrackedBody {
  let started = false;
  let done = false;
  return {
    iterable: {
      async *[Symbol.asyncIterator]() {
        if (started) throw invalidArgument(`The body of layer entry ${JSON.stringify(name)} was read twice`);
        started = true;
        for await (const chunk of stream) yield chunk;
        done = true;
      },
    },
    async finish() {
      if (!started) {
        for await (const _ of stream) void _;
      } else if (!done) {
        throw invalidArgument(`The body of layer entry ${JSON.stringify(name)} was not read to its end`);
      }
    },
  };
}

export async function* readWindowsLayerTar(tar: Readable): AsyncGenerator<LayerEntry> {
  const ex = extract();
  tar.on('error', (err) => ex.destroy(err));
  tar.pipe(ex);
  const guard = new LayerPathGuard();
  try {
    for await (const stream of ex) {
      const h = stream.header;
      const pax = (h.pax ?? {}) as Record<string, string>;
      const name = h.name.replace(/\/+$/, '') + (h.type === 'directory' ? '/' : '');
      const body = track(stream as AsyncIterable<Uint8Array>, h.name);
      const mtime = Math.floor(h.mtime.getTime() / 1000);
      const base = name.slice(name.lastIndexOf('/') + 1);
      switch (h.type) {
        case 'directory':
          yield { type: 'directory', path: guard.entry(name, 'directory'), info: fileInfoFromPax(pax, mtime, true) };
          break;
        case 'symlink':
          if (h.linkname === '') throw invalidArgument(`The reparse point ${JSON.stringify(name)} has no target`, 'the layer is corrupt');
          yield {
            type: 'reparsePoint',
            path: guard.entry(name, 'reparsePoint'),
            info: fileInfoFromPax(pax, mtime, false),
            target: h.linkname,
            mountPoint: pax[PaxKey.MountPoint] !== undefined,
          };
          break;
        case 'link': {
          const l = guard.hardLink(name, h.linkname);
          yield { type: 'hardLink', path: l.path, target: l.target };
          break;
        }
        case 'file':
        case 'contiguous-file':
          if (base.startsWith(WHITEOUT_PREFIX)) {
            if (h.size !== 0) throw invalidArgument(`The whiteout ${JSON.stringify(name)} has content`, 'the layer is corrupt');
            yield { type: 'whiteout', path: guard.whiteout(name) };
          } else if (base.includes(':')) {
            const ads = guard.alternateStream(name);
            yield { type: 'alternateStream', path: `${ads.file}:${ads.stream}`, size: h.size, body: body.iterable };
          } else {
            yield { type: 'file', path: guard.entry(name, 'file'), info: fileInfoFromPax(pax, mtime, false), size: h.size, body: body.iterable };
          }
          break;
        default:
          throw invalidArgument(`The layer entry ${JSON.stringify(name)} is a ${h.type}, which Windows layers cannot hold`, 'the image is malformed');
      }
      await body.finish();
    }
  } finally {
    tar.unpipe(ex);
    ex.destroy();
  }
}
