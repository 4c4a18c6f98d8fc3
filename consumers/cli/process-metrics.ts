import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { MetricsText } from './prometheus-text.ts';

/**
 * The process and Node.js metrics every Node exporter serves, under the names prom-client's
 * `collectDefaultMetrics` uses, so existing Node dashboards and alerts work unchanged.
 */
export class ProcessMetrics {
  readonly #startSeconds = Math.round((Date.now() - process.uptime() * 1000) / 1000);
  readonly #loopDelay = monitorEventLoopDelay({ resolution: 20 });

  constructor() {
    this.#loopDelay.enable();
  }

  render(): string {
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    const text = new MetricsText()
      .counter('process_cpu_user_seconds_total', 'User CPU time spent, in seconds.', [
        { value: cpu.user / 1e6 },
      ])
      .counter('process_cpu_system_seconds_total', 'System CPU time spent, in seconds.', [
        { value: cpu.system / 1e6 },
      ])
      .counter('process_cpu_seconds_total', 'User and system CPU time spent, in seconds.', [
        { value: (cpu.user + cpu.system) / 1e6 },
      ])
      .gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds.', [
        { value: this.#startSeconds },
      ])
      .gauge('process_resident_memory_bytes', 'Resident memory size, in bytes.', [{ value: memory.rss }])
      .gauge('nodejs_heap_size_total_bytes', 'V8 heap size, in bytes.', [{ value: memory.heapTotal }])
      .gauge('nodejs_heap_size_used_bytes', 'V8 heap used, in bytes.', [{ value: memory.heapUsed }])
      .gauge(
        'nodejs_external_memory_bytes',
        'Memory of C++ objects bound to JavaScript (Buffers), in bytes.',
        [{ value: memory.external }],
      )
      .gauge('nodejs_eventloop_lag_p99_seconds', 'p99 event loop delay since the last scrape, in seconds.', [
        { value: Number.isNaN(this.#loopDelay.percentile(99)) ? 0 : this.#loopDelay.percentile(99) / 1e9 },
      ])
      .gauge('nodejs_version_info', 'Node.js version.', [{ labels: { version: process.version }, value: 1 }]);
    this.#loopDelay.reset();
    const fds = openFds();
    if (fds !== undefined) text.gauge('process_open_fds', 'Open file descriptors.', [{ value: fds }]);
    return text.text();
  }

  close(): void {
    this.#loopDelay.disable();
  }
}

/** Linux only: the entries of /proc/self/fd; undefined elsewhere. */
const openFds = (): number | undefined => {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
};
