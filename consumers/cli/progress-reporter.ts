import type { RunningPipeline } from './run-pipeline.ts';
import type { StatusLine } from './status-line.ts';

/**
 * Live progress on the terminal: one line, rewritten every second on a TTY, printed every five
 * seconds otherwise (CI logs stay short). Goes to stderr through the StatusLine that log lines
 * go through too, so the two never interleave; stdout carries only results.
 */
export class ProgressReporter {
  private timer: NodeJS.Timeout | undefined;
  private lastRecords = 0;
  private lastAt = Date.now();
  private ticks = 0;

  constructor(
    private readonly running: RunningPipeline,
    private readonly status: StatusLine,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.render(), 1_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.status.end();
  }

  line(): string {
    const { counters } = this.running.pipeline;
    const now = Date.now();
    const rate = ((counters.records - this.lastRecords) * 1000) / Math.max(1, now - this.lastAt);
    this.lastRecords = counters.records;
    this.lastAt = now;
    const lagMs = Math.max(0, ...this.running.consumer.stats().shards.map((s) => s.millisBehindLatest ?? 0));
    const wh = this.running.warehouseProgress;
    const fresh = this.running.freshness.stats();
    // Parquet files only (dead-letter files are counted with the dead letters); no latency before data.
    return (
      `records ${counters.records} (${Math.round(rate)}/s) | rows landed ${counters.landed} | ` +
      `duplicates ${counters.deduplicated} | dead letters ${counters.deadLettered} | parquet files ${wh.landedFiles} | ` +
      `behind ${(lagMs / 1000).toFixed(1)}s | warehouse rows ${wh.rows} | ` +
      `arrival→queryable p50 ${fresh.batches === 0 ? '–' : `${(fresh.p50Ms / 1000).toFixed(1)}s`}`
    );
  }

  private render(): void {
    this.ticks += 1;
    if (this.status.isTTY || this.ticks % 5 === 0) this.status.show(this.line());
  }

  printSummary(sent: number, seconds: number): void {
    const c = this.running.pipeline.counters;
    const fresh = this.running.freshness.stats();
    this.status.write(
      [
        '',
        `Summary after ${seconds.toFixed(1)} s`,
        `  demo events sent        ${sent}`,
        `  Kinesis records read    ${c.records}`,
        `  rows landed (Parquet)   ${c.landed} in ${this.running.warehouseProgress.landedFiles} files`,
        `  duplicates dropped      ${c.deduplicated}`,
        `  dead letters            ${c.deadLettered}`,
        `  warehouse rows loaded   ${this.running.warehouseProgress.rows}`,
        `  arrival → queryable     p50 ${(fresh.p50Ms / 1000).toFixed(1)} s, p95 ${(fresh.p95Ms / 1000).toFixed(1)} s, max ${(fresh.maxMs / 1000).toFixed(1)} s (${fresh.batches} batches)`,
        `    p95 of its parts      in the stream ${seconds1(fresh.split.inStream.p95Ms)}, read → landed ${seconds1(fresh.split.toLanded.p95Ms)}, landed → queryable ${seconds1(fresh.split.toQueryable.p95Ms)}`,
        '',
      ].join('\n'),
    );
  }
}

const seconds1 = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
