import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { type DeliveryVerdict, judgeDelivery, type ProbeState, readSample } from './delivery-probe.mjs';

/**
 * The delivery probe's decision on metric texts shaped like Fluent Bit's
 * /api/v2/metrics/prometheus (one tail input, the Lua filter, the Kinesis output), then the
 * script itself against a local metrics server.
 */

type Counters = {
  received: number;
  filterDropped: number;
  delivered: number;
  retries: number;
  retriesFailed: number;
  errors: number;
  dropped: number;
};

const MINUTE = 60_000;
const T0 = Date.parse('2025-01-15T10:00:00Z');
const options = { stallAfterMs: 10 * MINUTE };

/** A scrape of the sidecar with the given counter values. */
function metricsText(c: Partial<Counters> = {}): string {
  const v = {
    received: 0,
    filterDropped: 0,
    delivered: 0,
    retries: 0,
    retriesFailed: 0,
    errors: 0,
    dropped: 0,
    ...c,
  };
  const series = (metric: string, name: string, value: number) =>
    `# HELP ${metric} Fluent Bit counter.\n# TYPE ${metric} counter\n${metric}{name="${name}"} ${value}\n`;
  return [
    '# HELP fluentbit_uptime Number of seconds that Fluent Bit has been running.',
    '# TYPE fluentbit_uptime counter',
    'fluentbit_uptime{hostname="api-7f9c"} 3600',
    series('fluentbit_input_records_total', 'tail.0', v.received),
    series('fluentbit_input_bytes_total', 'tail.0', v.received * 300),
    series('fluentbit_filter_drop_records_total', 'lua.0', v.filterDropped),
    series('fluentbit_filter_add_records_total', 'lua.0', 0),
    series('fluentbit_output_proc_records_total', 'kinesis_streams.0', v.delivered),
    series('fluentbit_output_retries_total', 'kinesis_streams.0', v.retries),
    series('fluentbit_output_retries_failed_total', 'kinesis_streams.0', v.retriesFailed),
    series('fluentbit_output_errors_total', 'kinesis_streams.0', v.errors),
    series('fluentbit_output_dropped_records_total', 'kinesis_streams.0', v.dropped),
  ].join('');
}

/** Feeds scrapes taken at the given minutes to the decision, as the probe would. */
function run(scrapes: [minute: number, counters: Partial<Counters>][]): DeliveryVerdict[] {
  let state: ProbeState | undefined;
  return scrapes.map(([minute, counters]) => {
    const verdict = judgeDelivery(state, readSample(metricsText(counters), T0 + minute * MINUTE), options);
    state = verdict.state;
    return verdict;
  });
}

describe('judgeDelivery', () => {
  it('idle (no input for an hour) is healthy', () => {
    // Prepare
    const steady = { received: 500, delivered: 500 };

    // Act
    const verdicts = run([
      [0, steady],
      [30, steady],
      [60, steady],
    ]);

    // Assess
    expect(verdicts.map((v) => v.healthy)).toEqual([true, true, true]);
    expect(verdicts.at(-1)!.reason).toMatch(/^idle/);
  });

  it('records the filter drops on purpose (health checks) are not waiting to be sent', () => {
    // Prepare / Act
    const verdicts = run([
      [0, { received: 100, filterDropped: 10, delivered: 90 }],
      [15, { received: 400, filterDropped: 310, delivered: 90 }],
      [30, { received: 700, filterDropped: 610, delivered: 90 }],
    ]);

    // Assess
    expect(verdicts.every((v) => v.healthy)).toBe(true);
    expect(verdicts.at(-1)!.reason).toMatch(/^idle/);
  });

  it('healthy flow: records arrive and are delivered', () => {
    // Prepare / Act
    const verdicts = run([
      [0, { received: 100, delivered: 100 }],
      [1, { received: 250, delivered: 240 }],
      [2, { received: 400, delivered: 400, retries: 1 }],
    ]);

    // Assess
    expect(verdicts.every((v) => v.healthy)).toBe(true);
    expect(verdicts.at(-1)!.reason).toMatch(/^delivering: 160 records/);
  });

  it('outage: retries rising and nothing delivered for longer than N turns unhealthy, naming why', () => {
    // Prepare: Kinesis unreachable from minute 1; retry_limit no_limits, so nothing is dropped
    const verdicts = run([
      [0, { received: 100, delivered: 100 }],
      [1, { received: 160, delivered: 100, retries: 1 }],
      [6, { received: 400, delivered: 100, retries: 9 }],
      [11, { received: 650, delivered: 100, retries: 17 }],
      [12, { received: 700, delivered: 100, retries: 18 }],
    ]);

    // Act
    const [, started, halfway, atLimit, past] = verdicts;

    // Assess
    expect(started!.healthy).toBe(true);
    expect(halfway!.healthy).toBe(true);
    expect(halfway!.reason).toMatch(/^waiting: 300 records to send and 9 retries/);
    expect(atLimit!.healthy).toBe(true);
    expect(past!.healthy).toBe(false);
    expect(past!.reason).toMatch(/^stalled: 600 records to send and 18 retries, none delivered for 11m00s/);
    expect(past!.reason).toContain('last delivery 2025-01-15T10:00:00.000Z');
  });

  it('retries alone (a backlog from before a restart, no new input) are enough to stall', () => {
    // Prepare / Act
    const verdicts = run([
      [0, { received: 50, delivered: 0 }],
      [5, { received: 50, delivered: 0, retries: 6 }],
      [16, { received: 50, delivered: 0, retries: 16 }],
    ]);

    // Assess
    expect(verdicts.map((v) => v.healthy)).toEqual([true, true, false]);
  });

  it('recovery: the first delivery after an outage is healthy again and resets the clock', () => {
    // Prepare / Act
    const verdicts = run([
      [0, { received: 100, delivered: 100 }],
      [1, { received: 200, delivered: 100, retries: 2 }],
      [13, { received: 900, delivered: 100, retries: 20 }],
      [14, { received: 950, delivered: 950, retries: 21 }],
      [15, { received: 1000, delivered: 1000, retries: 21 }],
    ]);

    // Assess
    expect(verdicts.map((v) => v.healthy)).toEqual([true, true, false, true, true]);
    expect(verdicts[3]!.reason).toMatch(/^delivering: 850 records/);
    expect(verdicts[3]!.state.waitingSince).toBeUndefined();
  });

  it('a failure after a long idle time is not a stall until it has lasted N', () => {
    // Prepare / Act
    const verdicts = run([
      [0, { received: 100, delivered: 100 }],
      [120, { received: 100, delivered: 100 }],
      [121, { received: 101, delivered: 100, retries: 1 }],
      [125, { received: 101, delivered: 100, retries: 4 }],
    ]);

    // Assess
    expect(verdicts.map((v) => v.healthy)).toEqual([true, true, true, true]);
    expect(verdicts[3]!.reason).toMatch(/^waiting: .* for 4m00s of 10m00s allowed/);
  });

  it('a Fluent Bit restart during an outage neither hides the stall nor counts as a delivery', () => {
    // Prepare: counters fall back to zero at minute 8; the buffered chunks are retried again
    const verdicts = run([
      [0, { received: 100, delivered: 100 }],
      [1, { received: 150, delivered: 100, retries: 1 }],
      [7, { received: 400, delivered: 100, retries: 8 }],
      [8, { received: 20, delivered: 0, retries: 1 }],
      [12, { received: 90, delivered: 0, retries: 5 }],
    ]);

    // Assess
    expect(verdicts[3]!.counts?.restarted).toBe(true);
    expect(verdicts.map((v) => v.healthy)).toEqual([true, true, true, true, false]);
  });

  it('refuses a text that is not Fluent Bit metrics', () => {
    // Act / Assess
    expect(() => readSample('# nothing here\nup 1\n', T0)).toThrow(/fluentbit_output_proc_records_total/);
  });
});

describe('delivery-probe.mjs as a command', () => {
  const script = join(import.meta.dirname, 'delivery-probe.mjs');
  const exec = promisify(execFile);
  const probe = async (
    args: string[],
  ): Promise<{ code: number; out: { healthy: boolean; reason: string } }> => {
    try {
      const { stdout } = await exec(process.execPath, [script, ...args]);
      return { code: 0, out: JSON.parse(stdout) };
    } catch (error) {
      const e = error as { code: number; stdout: string };
      return { code: e.code, out: JSON.parse(e.stdout) };
    }
  };

  it('keeps its state between runs: exit 0 while delivering or waiting, 1 once stalled, 2 unreadable', async () => {
    // Prepare
    let text = metricsText({ received: 10, delivered: 10 });
    const server = createServer((_req, res) => res.end(text));
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2/metrics/prometheus`;
    const state = join(mkdtempSync(join(tmpdir(), 'shardline-probe-')), 'state.json');
    const args = ['--metrics-url', url, '--state', state, '--stall-after', '200ms'];

    try {
      // Act
      const first = await probe(args);
      text = metricsText({ received: 20, delivered: 10, retries: 1 });
      const waiting = await probe(args);
      await new Promise((wait) => setTimeout(wait, 300));
      text = metricsText({ received: 30, delivered: 10, retries: 3 });
      const stalled = await probe(args);
      const unreadable = await probe([...args, '--metrics-url', 'http://127.0.0.1:9/none']);

      // Assess
      expect([first.code, waiting.code, stalled.code, unreadable.code]).toEqual([0, 0, 1, 2]);
      expect(stalled.out.reason).toMatch(/^stalled: 20 records to send and 3 retries/);
      expect(unreadable.out.reason).toMatch(/^metrics unreadable/);
    } finally {
      server.close();
    }
  });
});
