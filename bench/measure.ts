// What every benchmark needs: a median, a millisecond clock, and the one JSON line bench/run.mjs reads
// ({"bench","unit","silo","peer","peerValue","ratio","target","pass"}).
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Milliseconds since `t0` (from process.hrtime.bigint()). */
export const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

export function emit(result: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(result) + '\n');
}
