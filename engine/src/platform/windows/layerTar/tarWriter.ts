// LayerEntry -> Windows layer tar, PAX records in one fixed order (paxRecords.ts), so reading a layer
// this wrote and writing it again gives the same bytes. Alternate data streams follow their file and
// carry its times, as go-winio backuptar writes them.
import { pack, type Pack } from 'tar-stream';
import { invalidArgument } from '../../../errors';
import { FileAttribute, type LayerBody, type LayerEntry, type WindowsFileInfo } from './entry';
import { formatPaxTime, paxFromFileInfo } from './paxRecords';

const S = 1_000_000_000n;

function dateOf(ns: bigint): Date {
  const secs = ns >= 0n ? ns / S : (ns - S + 1n) / S;
  return new Date(Number(secs) * 1000);
}

export class WindowsLayerTarWriter {
  readonly stream: Pack = pack();
  private lastFile: { path: string; info: WindowsFileInfo } | undefined;

  async add(entry: LayerEntry): Promise<void> {
    switch (entry.type) {
      case 'directory':
        this.lastFile = undefined;
        return this.write(
          { name: entry.path + '/', type: 'directory', mode: 0o755, mtime: dateOf(entry.info.lastWriteTime), pax: paxFromFileInfo({ ...entry.info, attributes: entry.info.attributes | FileAttribute.Directory }) },
          undefined,
        );
      case 'file':
        this.lastFile = { path: entry.path, info: entry.info };
        return this.write({ name: entry.path, type: 'file', mode: 0o644, size: entry.size, mtime: dateOf(entry.info.lastWriteTime), pax: paxFromFileInfo(entry.info) }, entry.body);
      case 'reparsePoint':
        this.lastFile = undefined;
        return this.write(
          { name: entry.path, type: 'symlink', mode: 0o777, linkname: entry.target, mtime: dateOf(entry.info.lastWriteTime), pax: paxFromFileInfo(entry.info, entry.mountPoint) },
          undefined,
        );
      case 'hardLink':
        this.lastFile = undefined;
        return this.write({ name: entry.path, type: 'link', mode: 0o644, linkname: entry.target, mtime: new Date(0) }, undefined);
      case 'alternateStream': {
        const file = entry.path.slice(0, entry.path.indexOf(':'));
        if (!this.lastFile || this.lastFile.path !== file) {
          throw invalidArgument(`The alternate data stream ${JSON.stringify(entry.path)} does not follow its file`);
        }
        const info = this.lastFile.info;
        const pax: Record<string, string> = { mtime: formatPaxTime(info.lastWriteTime) };
        if (info.lastAccessTime !== undefined) pax.atime = formatPaxTime(info.lastAccessTime);
        if (info.changeTime !== undefined) pax.ctime = formatPaxTime(info.changeTime);
        return this.write({ name: entry.path, type: 'file', mode: 0o644, size: entry.size, mtime: dateOf(info.lastWriteTime), pax }, entry.body);
      }
      case 'whiteout': {
        this.lastFile = undefined;
        const slash = entry.path.lastIndexOf('/');
        const name = `${entry.path.slice(0, slash + 1)}.wh.${entry.path.slice(slash + 1)}`;
        return this.write({ name, type: 'file', mode: 0o644, size: 0, mtime: new Date(0) }, Buffer.alloc(0));
      }
    }
  }

  finalize(): void {
    this.stream.finalize();
  }

  private write(header: Parameters<Pack['entry']>[0], body: LayerBody | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (body === undefined || Buffer.isBuffer(body)) {
        this.stream.entry({ uid: 0, gid: 0, ...header, ...(body ? { size: body.length } : {}) }, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
        return;
      }
      const sink = this.stream.entry({ uid: 0, gid: 0, ...header }, (err) => (err ? reject(err) : resolve()));
      (async () => {
        for await (const chunk of body) {
          if (!sink.write(chunk)) await new Promise<void>((r) => sink.once('drain', () => r()));
        }
        sink.end(undefined);
      })().catch((err) => {
        sink.destroy(err);
        reject(err);
      });
    });
  }
}
