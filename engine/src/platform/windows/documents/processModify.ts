// ProcessModifyRequest for HcsModifyProcess: console resize and closing stdin (hcsshim
// internal/hcs/schema2 process_modify_request.go, console_size.go, close_handle.go).

export type ProcessModifyRequest =
  | { Operation: 'ConsoleSize'; ConsoleSize: { Height: number; Width: number } }
  | { Operation: 'CloseHandle'; CloseHandle: { Handle: 'StdIn' | 'StdOut' | 'StdErr' | 'All' } };

export function resizeConsoleRequest(height: number, width: number): ProcessModifyRequest {
  const h = Math.max(1, Math.min(0xffff, Math.floor(height)));
  const w = Math.max(1, Math.min(0xffff, Math.floor(width)));
  return { Operation: 'ConsoleSize', ConsoleSize: { Height: h, Width: w } };
}

export function closeStdinRequest(): ProcessModifyRequest {
  return { Operation: 'CloseHandle', CloseHandle: { Handle: 'StdIn' } };
}
