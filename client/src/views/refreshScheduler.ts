// Coalesces bursts of engine events into one refresh (a `run` sends create, start, attach... at once).
export class RefreshScheduler {
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly refresh: () => void, private readonly delayMs = 150) {}
  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refresh();
    }, this.delayMs);
  }
  dispose(): void {
    clearTimeout(this.timer);
  }
}
