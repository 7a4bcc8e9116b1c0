// One closed set of error kinds for the whole engine (the containerd errdefs pattern).
// Code below the edge throws SiloError with a kind and a sentence a user can act on;
// rpc/ alone maps kinds to JSON-RPC error codes, cli/ alone maps them to exit codes.

export type ErrorKind =
  | 'NotFound'            // no such image, container, layer, blob
  | 'AlreadyExists'       // name in use, blob present (callers usually treat this as success)
  | 'InvalidArgument'     // malformed reference, flag, spec, tar, manifest
  | 'FailedPrecondition'  // wrong state: container running, image in use
  | 'Unavailable'         // a needed tool or kernel feature is missing, a lock is held
  | 'PermissionDenied'    // not root, socket not ours
  | 'NotImplemented'      // a feature Silo does not have (yet) on this platform
  | 'Canceled'
  | 'Internal';

export class SiloError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** What the user can do about it, shown after the message. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'SiloError';
  }

  /** The one line a user sees. */
  get line(): string {
    return this.hint ? `${this.message}: ${this.hint}` : this.message;
  }
}

export const notFound = (msg: string, hint?: string) => new SiloError('NotFound', msg, hint);
export const alreadyExists = (msg: string, hint?: string) => new SiloError('AlreadyExists', msg, hint);
export const invalidArgument = (msg: string, hint?: string) => new SiloError('InvalidArgument', msg, hint);
export const failedPrecondition = (msg: string, hint?: string) => new SiloError('FailedPrecondition', msg, hint);
export const unavailable = (msg: string, hint?: string) => new SiloError('Unavailable', msg, hint);
export const permissionDenied = (msg: string, hint?: string) => new SiloError('PermissionDenied', msg, hint);
export const notImplemented = (msg: string, hint?: string) => new SiloError('NotImplemented', msg, hint);

export function isKind(err: unknown, kind: ErrorKind): boolean {
  return err instanceof SiloError && err.kind === kind;
}
