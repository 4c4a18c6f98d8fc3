/** One source of a long command (a shard, the archive): how far it is. */
export interface SourceState {
  readonly name: string;
  records: number;
  bytes: number;
  /** 0..1 when known; drives the bar and the ETA. */
  fraction: number | undefined;
  done: boolean;
}

const BAR = 24;
const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
const duration = (s: number) =>
  !Number.isFinite(s)
    ? '?'
    : s >= 3600
      ? `${Math.floor(s / 3600)}h${Math.round((s % 3600) / 60)}m`
      : s >= 60
        ? `${Math.floor(s / 60)}m${Math.round(s % 60)}s`
        : `${Math.round(s)}s`;

/**
 * A progress bar per source on stderr: records, MB, rate and ETA. On a terminal the lines are
 * redrawn in place every 250 ms; elsewhere (CI, a log file) they are printed every 5 s.
 */
export class SourceProgress {
  private readonly started = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private drawn = 0;
  private readonly states: SourceState[] = [];

  constructor(private readonly out: NodeJS.WritableStream & { isTTY?: boolean }) {}

  add(name: string): SourceState {
    const state: SourceState = { name, records: 0, bytes: 0, fraction: undefined, done: false };
    this.states.push(state);
    return state;
  }

  start(): void {
    this.timer = setInterval(() => this.render(), this.out.isTTY ? 250 : 5_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.render();
  }

  private line(s: SourceState): string {
    const seconds = (Date.now() - this.started) / 1000;
    const rate = s.records / Math.max(seconds, 0.001);
    const f = s.done ? 1 : (s.fraction ?? 0);
    const filled = Math.round(f * BAR);
    const eta = s.done
      ? 'done'
      : s.fraction
        ? `eta ${duration((seconds / s.fraction) * (1 - s.fraction))}`
        : 'eta ?';
    return `${s.name.padEnd(22)} [${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${String(Math.round(f * 100)).padStart(3)}% ${s.records} records ${mb(s.bytes)} MB ${Math.round(rate)}/s ${(s.bytes / 1e6 / Math.max(seconds, 0.001)).toFixed(1)} MB/s ${eta}`;
  }

  private render(): void {
    const lines = this.states.map((s) => this.line(s));
    if (this.out.isTTY) {
      if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}F`);
      this.out.write(lines.map((l) => `\x1b[2K${l}\n`).join(''));
      this.drawn = lines.length;
    } else {
      this.out.write(lines.map((l) => `${l}\n`).join(''));
    }
  }
}
