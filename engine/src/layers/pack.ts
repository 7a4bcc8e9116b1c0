// Writes OCI layer tars: a container's changes (from its overlayfs upper directory) or a whole tree.
// Deterministic: entries in walk order (comparePaths), hardlinks found by inode, no host user names.
//
// Reading is pinned beneath the root: each directory is opened with O_NOFOLLOW through the previous
// one's /proc/self/fd entry and files are opened with O_NOFOLLOW, so a running container that swaps
// a directory for a symlink cannot make the export read host files (CVE-2018-15664; moby pins through
// /proc/self/fd the same way, engine.md §4.3).
import fs from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import * as tarStream from 'tar-stream';
import { comparePaths, type Change } from './changes';
import { OPAQUE_WHITEOUT, OVERLAY_OPAQUE_XATTR, WHITEOUT_PREFIX, isOverlayWhiteout, type SpecialFiles } from './special';
import { paxHeaderBlocks } from './pax';

const O_DIR = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW;
const O_FILE = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW;

/** Open directory fds along the current path only (the walk is depth-first, so this stays shallow). */
class PinnedTree {
  private readonly fds = new Map<string, number>();

  constructor(root: string) {
    this.fds.set('', fs.openSync(root, O_DIR));
  }

  /** A path for `rel` that the kernel resolves from its pinned parent directory, never via a symlink. */
  path(rel: string): string {
    const i = rel.lastIndexOf('/');
    const dir = i < 0 ? '' : rel.slice(0, i);
    return `/proc/self/fd/${this.dirFd(dir)}/${rel.slice(i + 1)}`;
  }

  private dirFd(dir: string): number {
    let fd = this.fds.get(dir);
    if (fd !== undefined) return fd;
    // Leaving a branch: close what is not on the way to `dir`.
    for (const [p, open] of this.fds) {
      if (p !== '' && !(dir === p || dir.startsWith(p + '/'))) { fs.closeSync(open); this.fds.delete(p); }
    }
    const i = dir.lastIndexOf('/');
    const parent = i < 0 ? '' : dir.slice(0, i);
    fd = fs.openSync(`/proc/self/fd/${this.dirFd(parent)}/${dir.slice(i + 1)}`, O_DIR);
    this.fds.set(dir, fd);
    return fd;
  }

  close(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
  }
}

type TarHeader = Partial<tarStream.Header> & { name: string };

interface Item { rel: string; whiteout?: boolean; opaque?: boolean }

/** Only the xattrs an image carries (moby exports security.capability; user.* are the image's own). */
function exportedXattr(name: string): boolean {
  return name === 'security.capability' || name.startsWith('user.');
}

function major(rdev: number): number {
  return Number(((BigInt(rdev) >> 8n) & 0xfffn) | ((BigInt(rdev) >> 32n) & ~0xfffn));
}
function minor(rdev: number): number {
  return Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & ~0xffn));
}

function fits(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s) && s.length <= 100;
}

async function writeItems(root: string, items: Item[], special: SpecialFiles, out: tarStream.Pack): Promise<void> {
  const tree = new PinnedTree(root);
  const inodes = new Map<string, string>();
  // A 'file' entry without a body would wait for one: give empty files an empty body.
  const entry = (header: TarHeader, body?: Buffer) => new Promise<void>((resolve, reject) => {
    const data = body ?? (header.type === 'file' ? Buffer.alloc(0) : undefined);
    if (data) out.entry(header, data, (err) => (err ? reject(err) : resolve()));
    else out.entry(header, (err) => (err ? reject(err) : resolve()));
  });
  try {
    for (const item of items) {
      const name = item.rel;
      const i = name.lastIndexOf('/');
      if (item.whiteout) {
        const wh = (i < 0 ? '' : name.slice(0, i + 1)) + WHITEOUT_PREFIX + name.slice(i + 1);
        await entry({ name: wh, type: 'file', mode: 0o644, mtime: new Date(0), size: 0 });
        continue;
      }
      const p = tree.path(name);
      const st = fs.lstatSync(p, { throwIfNoEntry: false });
      if (!st || st.isSocket()) continue; // gone since the walk, or a socket (never in layers, as moby)
      const header: TarHeader = {
        name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime, size: 0, type: 'file',
      };
      const xattrs: [string, Buffer][] = [];
      for (const key of special.llistxattr(p)) {
        if (!exportedXattr(key)) continue;
        const value = special.lgetxattr(p, key);
        if (value) xattrs.push([`SCHILY.xattr.${key}`, value]);
      }
      let fd: number | undefined;
      if (st.isDirectory()) {
        header.type = 'directory';
      } else if (st.isSymbolicLink()) {
        header.type = 'symlink';
        header.linkname = fs.readlinkSync(p);
      } else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
        if (isOverlayWhiteout(st)) continue; // handled as a change or an item of its own
        header.type = st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'character-device' : 'block-device';
        header.devmajor = major(st.rdev);
        header.devminor = minor(st.rdev);
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? inodes.get(key) : undefined;
        if (first !== undefined) {
          header.type = 'link';
          header.linkname = first;
        } else {
          if (st.nlink > 1) inodes.set(key, name);
          fd = fs.openSync(p, O_FILE);
          header.size = fs.fstatSync(fd).size;
        }
      } else {
        continue;
      }
      if (xattrs.length > 0) {
        // Binary-exact PAX record of our own, carrying the names too so tar-stream adds none after it.
        // Pushed between entries: the previous one is complete (awaited) and none is queued.
        const records: [string, Buffer][] = [['path', Buffer.from(name)], ...xattrs];
        if (header.linkname) records.push(['linkpath', Buffer.from(header.linkname)]);
        (out as unknown as { push(b: Buffer): boolean }).push(paxHeaderBlocks(records));
        if (!fits(name)) header.name = 'PaxHeaderName';
        if (header.linkname && !fits(header.linkname)) header.linkname = 'PaxHeaderLink';
      }
      if (fd === undefined || header.size === 0) {
        if (fd !== undefined) fs.closeSync(fd);
        await entry(header);
      } else {
        const size = header.size as number;
        await new Promise<void>((resolve, reject) => {
          const sink = out.entry(header, (err) => (err ? reject(err) : resolve()));
          // Exactly the size in the header, even if a running container is growing the file.
          const src = fs.createReadStream('', { fd, highWaterMark: 1 << 20, start: 0, end: size - 1 });
          src.on('error', reject);
          src.pipe(sink as unknown as NodeJS.WritableStream);
        });
      }
      if (item.opaque) {
        await entry({ name: name + '/' + OPAQUE_WHITEOUT, type: 'file', mode: 0o644, mtime: new Date(0), size: 0 });
      }
    }
  } finally {
    tree.close();
  }
}

/** For trees read without xattr support: no attributes, no opaque directories. */
const noXattrs: SpecialFiles = {
  mknod() { throw new Error('mknod is not available'); },
  lsetxattr() { throw new Error('lsetxattr is not available'); },
  lgetxattr: () => undefined,
  llistxattr: () => [],
};

function packItems(root: string, items: () => Item[], special: SpecialFiles): Readable {
  const out = tarStream.pack();
  const result = new PassThrough({ highWaterMark: 1 << 20 });
  out.on('error', (err: Error) => result.destroy(err));
  (out as unknown as Readable).pipe(result);
  Promise.resolve().then(() => writeItems(root, items(), special, out))
    .then(() => out.finalize(), (err) => result.destroy(err));
  return result;
}

/**
 * The changes of an overlayfs upper directory as an uncompressed OCI layer tar: A and C entries with
 * their contents and metadata, D as `.wh.<name>`, an opaque directory followed by `.wh..wh..opq`.
 */
export function packChanges(upper: string, changes: Change[], special: SpecialFiles): Readable {
  return packItems(upper, () => {
    const sorted = [...changes].sort((a, b) => comparePaths(a.path, b.path));
    const opaque = new Set<string>();
    const items: Item[] = [];
    for (const c of sorted) {
      const rel = c.path.replace(/^\/+/, '');
      if (rel === '') continue;
      const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
      if (c.kind === 'D') {
        // Under an opaque directory its marker already hides every lower entry.
        if (!opaque.has(parent)) items.push({ rel, whiteout: true });
        continue;
      }
      const full = upper + '/' + rel;
      const st = fs.lstatSync(full, { throwIfNoEntry: false });
      let isOpaque = false;
      if (st?.isDirectory() && c.kind === 'C') {
        const v = special.lgetxattr(full, OVERLAY_OPAQUE_XATTR);
        isOpaque = v !== undefined && v.toString() === 'y';
      }
      if (isOpaque) opaque.add(rel);
      items.push({ rel, opaque: isOpaque });
    }
    return items;
  }, special);
}

/**
 * A whole directory tree as an uncompressed layer tar, in walk order. overlayfs whiteout devices and
 * opaque directories (a stored overlay layer) become their OCI forms.
 */
export function packDirectory(root: string, special: SpecialFiles = noXattrs): Readable {
  return packItems(root, () => {
    const items: Item[] = [];
    const walk = (dir: string) => {
      const full = dir === '' ? root : root + '/' + dir;
      const names = fs.readdirSync(full).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      for (const name of names) {
        const rel = dir === '' ? name : dir + '/' + name;
        const st = fs.lstatSync(full + '/' + name);
        if (isOverlayWhiteout(st)) { items.push({ rel, whiteout: true }); continue; }
        if (st.isDirectory()) {
          const v = special.lgetxattr(full + '/' + name, OVERLAY_OPAQUE_XATTR);
          items.push({ rel, opaque: v !== undefined && v.toString() === 'y' });
          walk(rel);
        } else {
          items.push({ rel });
        }
      }
    };
    walk('');
    return items;
  }, special);
}
