/**
 * The Prometheus text exposition format (version 0.0.4), written by hand: a handful of counters,
 * gauges and histograms do not need a client library and its global registry, and every value
 * here is read from the consumer and the pipeline at scrape time rather than pushed into one.
 */

export interface Sample {
  readonly labels?: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Latency buckets in seconds: a batch lands in milliseconds to seconds, retries take longer. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;
/** End-to-end buckets in seconds: Kinesis arrival to landed or queryable, seconds to minutes. */
export const FRESHNESS_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600] as const;

/** A cumulative histogram: counts per upper bound, plus sum and count, as Prometheus expects. */
export class Histogram {
  readonly #counts: number[];
  #sum = 0;
  #count = 0;

  constructor(readonly buckets: readonly number[]) {
    this.#counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) this.#counts[i]! += 1;
    this.#sum += value;
    this.#count += 1;
  }

  get count(): number {
    return this.#count;
  }

  /** `_bucket{le=…}` (cumulative, ending with +Inf), `_sum` and `_count` samples. */
  samples(): { suffix: '_bucket' | '_sum' | '_count'; labels?: Record<string, string>; value: number }[] {
    return [
      ...this.buckets.map((le, i) => ({
        suffix: '_bucket' as const,
        labels: { le: String(le) },
        value: this.#counts[i]!,
      })),
      { suffix: '_bucket', labels: { le: '+Inf' }, value: this.#count },
      { suffix: '_sum', value: this.#sum },
      { suffix: '_count', value: this.#count },
    ];
  }
}

/** Collects metric families in order; `base` labels (worker, stream) go on every sample. */
export class MetricsText {
  readonly #lines: string[] = [];

  constructor(private readonly base: Readonly<Record<string, string>> = {}) {}

  counter(name: string, help: string, samples: readonly Sample[]): this {
    return this.#family(name, 'counter', help, samples);
  }

  gauge(name: string, help: string, samples: readonly Sample[]): this {
    return this.#family(name, 'gauge', help, samples);
  }

  histogram(name: string, help: string, histogram: Histogram): this {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    for (const s of histogram.samples()) {
      this.#lines.push(
        `${name}${s.suffix}${labelText({ ...this.base, ...s.labels })} ${numberText(s.value)}`,
      );
    }
    return this;
  }

  /** Lines rendered elsewhere (process metrics carry no base labels). */
  raw(text: string): this {
    if (text !== '') this.#lines.push(text.trimEnd());
    return this;
  }

  text(): string {
    return `${this.#lines.join('\n')}\n`;
  }

  #family(name: string, type: 'counter' | 'gauge', help: string, samples: readonly Sample[]): this {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const s of samples) {
      this.#lines.push(`${name}${labelText({ ...this.base, ...s.labels })} ${numberText(s.value)}`);
    }
    return this;
  }
}

/** One sample per key of `counts`, labelled `name="key"`. */
export const byLabel = (name: string, counts: Readonly<Record<string, number>>): Sample[] =>
  Object.entries(counts).map(([value, n]) => ({ labels: { [name]: value }, value: n }));

export const labelText = (values: Readonly<Record<string, string>>): string => {
  const parts = Object.entries(values).map(
    ([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`,
  );
  return parts.length ? `{${parts.join(',')}}` : '';
};

const numberText = (n: number): string =>
  Number.isNaN(n) ? 'NaN' : n === Infinity ? '+Inf' : n === -Infinity ? '-Inf' : String(n);
