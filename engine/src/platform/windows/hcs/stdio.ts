// A process's stdio HANDLEs as Node streams, through Node's own libuv (hcs.md §8 option d):
// uv_open_osfhandle (exported by node.exe) turns the HANDLE into an fd libuv owns, and net.Socket
// opens it as a pipe: overlapped handles join the loop's completion port, so no thread is held, and
// EOF ends the stream. On Linux uv_open_osfhandle returns the fd unchanged, which is how the
// contract test's pipe fds flow through the same path. Close with destroy(), never CloseHandle.
import * as net from 'node:net';
import { koffi } from '../bindings/types';
import type { ProcessInformation } from './operation';

let openOsfHandle: ((h: unknown) => number) | undefined;

function toFd(handle: unknown): number {
  openOsfHandle ??= koffi.load(null).func('int uv_open_osfhandle(void *handle)') as (h: unknown) => number;
  const fd = openOsfHandle(handle);
  if (fd < 0) throw new Error(`uv_open_osfhandle failed (${fd})`);
  return fd;
}

const INVALID_HANDLE_VALUE = 0xffffffffffffffffn;

/** NULL and INVALID_HANDLE_VALUE both mean "not requested" (hcsshim internal/hcs/v2/utils.go). */
export function isAbsentHandle(h: unknown): boolean {
  if (h === null || h === undefined) return true;
  const v = typeof h === 'bigint' ? BigInt.asUintN(64, h) : BigInt(h as number);
  return v === 0n || v === INVALID_HANDLE_VALUE;
}

export interface ProcessStdio {
  stdin?: net.Socket;
  stdout?: net.Socket;
  stderr?: net.Socket;
}

export function stdioStreams(info: ProcessInformation): ProcessStdio {
  const out: ProcessStdio = {};
  if (!isAbsentHandle(info.StdInput)) out.stdin = new net.Socket({ fd: toFd(info.StdInput), readable: false, writable: true });
  if (!isAbsentHandle(info.StdOutput)) out.stdout = new net.Socket({ fd: toFd(info.StdOutput), readable: true, writable: false });
  if (!isAbsentHandle(info.StdError)) out.stderr = new net.Socket({ fd: toFd(info.StdError), readable: true, writable: false });
  return out;
}
