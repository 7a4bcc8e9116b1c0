// What layers/ needs from the host beyond Node's fs: device nodes (overlay whiteouts are 0/0 character
// devices) and extended attributes (trusted.overlay.opaque, security.capability, user.*). Declared here,
// implemented per platform (platform/linux/libc.ts) and injected by the caller, so layers/ never imports
// platform/.
//
// Every call is synchronous: each is one syscall of a few microseconds, cheaper than a thread-pool hop.
// Failures throw an Error carrying the errno name in `code` (e.g. 'ENOTSUP', 'EPERM'), like Node's fs.

export interface SpecialFiles {
  /** mknod(2). `mode` includes the file type bits (S_IFCHR, S_IFBLK or S_IFIFO) and the permissions. */
  mknod(path: string, mode: number, major: number, minor: number): void;
  /** lsetxattr(2): never follows a symlink. */
  lsetxattr(path: string, name: string, value: Buffer): void;
  /** lgetxattr(2): the value, or undefined when the attribute is absent or the file system has none. */
  lgetxattr(path: string, name: string): Buffer | undefined;
  /** llistxattr(2): the attribute names, [] when the file system has none. */
  llistxattr(path: string): string[];
}

/** OCI image-spec layer.md: a file named `.wh.<name>` deletes `<name>` of the layers below. */
export const WHITEOUT_PREFIX = '.wh.';
/** OCI image-spec layer.md: `.wh..wh..opq` in a directory hides every lower entry of that directory. */
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
/** Linux overlayfs (Documentation/filesystems/overlayfs.rst): an opaque upper directory carries this xattr = "y". */
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';

/** overlayfs marks a deleted lower entry with a character device numbered 0/0. */
export function isOverlayWhiteout(st: { mode: number; rdev: number }): boolean {
  return (st.mode & 0o170000) === 0o020000 && st.rdev === 0;
}
