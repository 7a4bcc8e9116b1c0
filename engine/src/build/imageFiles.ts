// Reads one path of an image from its layer tars, top layer first, without mounting anything: what
// COPY needs to know (is the destination an existing directory?) and what `--chown=name` needs
// (/etc/passwd, /etc/group). Whiteouts of the path itself hide it.
import * as path from 'node:path';
import * as tarStream from 'tar-stream';
import type { LayerRecord } from '../image/store';
import { openLayerTar } from '../image/unpack';
import type { ContentStore } from '../store/content';

export interface ImagePath {
  type: 'file' | 'directory' | 'symlink' | 'other';
  content?: Buffer;
}

const MAX_CONTENT = 4 * 1024 * 1024;

export async function readImagePath(content: ContentStore, layers: readonly LayerRecord[], p: string, wantContent = false): Promise<ImagePath | undefined> {
  const want = p.replace(/^\/+/, '').replace(/\/+$/, '');
  const whiteout = path.posix.join(path.posix.dirname(want), `.wh.${path.posix.basename(want)}`);
  for (let i = layers.length - 1; i >= 0; i--) {
    const tar = await openLayerTar(content, layers[i].blob);
    const found = await new Promise<ImagePath | 'gone' | undefined>((resolve, reject) => {
      const ex = tarStream.extract();
      let result: ImagePath | 'gone' | undefined;
      ex.on('entry', (h, stream, next) => {
        const name = h.name.replace(/^\.?\/+/, '').replace(/\/+$/, '');
        if (result === undefined && name === whiteout) result = 'gone';
        if (result === undefined && name === want) {
          const type = h.type === 'file' || h.type === 'contiguous-file' ? 'file' : h.type === 'directory' ? 'directory' : h.type === 'symlink' ? 'symlink' : 'other';
          if (type === 'file' && wantContent && (h.size ?? 0) <= MAX_CONTENT) {
            const chunks: Buffer[] = [];
            stream.on('data', (c: unknown) => chunks.push(c as Buffer));
            stream.on('end', () => {
              result = { type, content: Buffer.concat(chunks) };
              next();
            });
            return;
          }
          result = { type };
        }
        stream.on('end', () => next());
        stream.resume();
      });
      ex.on('finish', () => resolve(result));
      ex.on('error', reject);
      tar.on('error', reject);
      tar.pipe(ex);
    });
    if (found === 'gone') return undefined;
    if (found) return found;
  }
  return undefined;
}

/** `--chown=user:group` to numbers, names looked up in the image's /etc/passwd and /etc/group. */
export async function resolveChown(content: ContentStore, layers: readonly LayerRecord[], spec: string): Promise<{ uid: number; gid: number }> {
  const [u, g] = spec.split(':');
  const lookup = async (file: string, name: string, field: number): Promise<number | undefined> => {
    if (/^\d+$/.test(name)) return Number(name);
    const f = await readImagePath(content, layers, file, true);
    const line = f?.content?.toString('utf8').split('\n').find((l) => l.split(':')[0] === name);
    return line ? Number(line.split(':')[field]) : undefined;
  };
  const uid = await lookup('etc/passwd', u, 2);
  if (uid === undefined) throw new Error(`unable to find user ${u}: no matching entries in passwd file`);
  let gid: number | undefined;
  if (g !== undefined) gid = await lookup('etc/group', g, 2);
  else if (/^\d+$/.test(u)) gid = uid;
  else {
    const f = await readImagePath(content, layers, 'etc/passwd', true);
    gid = Number(f?.content?.toString('utf8').split('\n').find((l) => l.split(':')[0] === u)?.split(':')[3] ?? uid);
  }
  if (gid === undefined) throw new Error(`unable to find group ${g}: no matching entries in group file`);
  return { uid, gid };
}
