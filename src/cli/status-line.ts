// One live status line on a terminal, rewritten in place every second. On anything that is
// not a terminal it stays silent, so logs and pipes are not flooded.

export class StatusLine {
  private timer: NodeJS.Timeout | undefined;
  private shown = false;

  constructor(private readonly out: NodeJS.WriteStream) {}

  start(render: () => string): void {
    if (!this.out.isTTY) return;
    this.timer = setInterval(() => {
      const width = this.out.columns ?? 120;
      this.out.write(`\r\x1b[2K${render().slice(0, width - 1)}`);
      this.shown = true;
    }, 1000);
    this.timer.unref();
  }

  /** Clears the line so a log message can be printed above it. */
  clear(): void {
    if (this.shown) {
      this.out.write('\r\x1b[2K');
      this.shown = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.clear();
  }
}
