/** A progress bar on stderr for long reads: only on a TTY, redrawn at most 10 times a second. */
export class Progress {
  private last = 0;
  private shown = false;
  private readonly enabled: boolean;

  constructor(
    private readonly label: string,
    enabled = process.stderr.isTTY === true,
  ) {
    this.enabled = enabled;
  }

  update(done: number, total?: number, extra = ''): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    this.shown = true;
    let line = `${this.label} `;
    if (total && total > 0) {
      const f = Math.min(1, done / total);
      const w = 30;
      const n = Math.round(f * w);
      line += `[${'#'.repeat(n)}${'.'.repeat(w - n)}] ${(f * 100).toFixed(0).padStart(3)}%`;
    } else line += `${(done / 1e6).toFixed(0)} MB`;
    process.stderr.write(`\r${line} ${extra}\x1b[K`);
  }

  done(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
  }
}
