/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal (CI logs and pipes get nothing but the final
 * lines), redrawn at most every 100 ms.
 */
export class Progress {
  private done = 0;
  private last = 0;
  private label = '';
  private readonly started = Date.now();
  readonly enabled: boolean;

  constructor(
    private total: number,
    enabled: boolean = Boolean(process.stderr.isTTY),
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.enabled = enabled;
  }

  setTotal(total: number): void {
    this.total = total;
    this.draw(true);
  }

  /** Advances by n (default 1), optionally naming what is running now. */
  tick(n = 1, label?: string): void {
    this.done += n;
    if (label !== undefined) this.label = label;
    this.draw(false);
  }

  /** Sets the absolute position (for callbacks that report done/total). */
  set(done: number, total: number, label?: string): void {
    this.done = done;
    this.total = total;
    if (label !== undefined) this.label = label;
    this.draw(false);
  }

  setLabel(label: string): void {
    this.label = label;
    this.draw(false);
  }

  private draw(force: boolean): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.last < 100 && this.done < this.total) return;
    this.last = now;
    const width = 28;
    const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 0;
    const filled = Math.round(frac * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const secs = ((now - this.started) / 1000).toFixed(0);
    const cols = this.out.columns || 100;
    const head = `${bar} ${String(Math.round(frac * 100)).padStart(3)}% ${secs}s `;
    const label = this.label.slice(0, Math.max(0, cols - head.length - 1));
    this.out.write(`\r${head}${label}\x1b[K`);
  }

  /** Clears the bar (before printing the final lines). */
  finish(): void {
    if (this.enabled) this.out.write('\r\x1b[K');
  }
}
