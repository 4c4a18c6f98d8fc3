import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * fluent-bit/alerts/sidecar.rules.yaml: well-formed Prometheus rules that use only metrics Fluent
 * Bit 5.1 registers. No Prometheus runs here; the PromQL itself is read by people and by
 * `promtool check rules` where it is installed.
 */

const RULES = resolve(import.meta.dirname, '../../fluent-bit/alerts/sidecar.rules.yaml');

/** cmetrics counters of src/flb_input.c, src/flb_filter.c and src/flb_output.c. */
const FLUENT_BIT_COUNTERS = [
  'fluentbit_input_records_total',
  'fluentbit_input_bytes_total',
  'fluentbit_filter_drop_records_total',
  'fluentbit_filter_add_records_total',
  'fluentbit_output_proc_records_total',
  'fluentbit_output_proc_bytes_total',
  'fluentbit_output_errors_total',
  'fluentbit_output_retries_total',
  'fluentbit_output_retries_failed_total',
  'fluentbit_output_retried_records_total',
  'fluentbit_output_dropped_records_total',
];

type Rule = { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string> };
const groups = (parse(readFileSync(RULES, 'utf8')) as { groups: { name: string; rules: Rule[] }[] }).groups;
const rules = groups.flatMap((g) => g.rules);

describe('sidecar alert rules', () => {
  it('alert on no delivery while records wait or retries run, on drops, and on endless retries', () => {
    // Act
    const alerts = rules.flatMap((r) => (r.alert === undefined ? [] : [r.alert]));

    // Assess
    expect(alerts).toEqual([
      'ShardlineSidecarNotDelivering',
      'ShardlineSidecarDroppingRecords',
      'ShardlineSidecarRetrying',
    ]);
    expect(rules.find((r) => r.alert === 'ShardlineSidecarNotDelivering')).toMatchObject({
      labels: { severity: 'critical' },
      expr: expect.stringMatching(/increase\(fluentbit_output_proc_records_total\[10m\]\)\) == 0/),
    });
  });

  it('every rule is an alert or a recording rule, with a valid `for`, over metrics Fluent Bit registers', () => {
    // Prepare
    const recorded = rules.flatMap((r) => (r.record === undefined ? [] : [r.record]));

    // Act
    const metrics = rules.flatMap((r) => [...r.expr.matchAll(/(?<![\w:])fluentbit_\w+/g)].map((m) => m[0]));
    const references = rules.flatMap((r) =>
      [...r.expr.matchAll(/\bshardline:\w+(?::\w+)*/g)].map((m) => m[0]),
    );

    // Assess
    for (const rule of rules) {
      expect(Number(rule.alert !== undefined) + Number(rule.record !== undefined)).toBe(1);
      if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/);
    }
    expect(metrics.length).toBeGreaterThan(5);
    expect(metrics.filter((m) => !FLUENT_BIT_COUNTERS.includes(m))).toEqual([]);
    expect(references.filter((r) => !recorded.includes(r))).toEqual([]);
  });
});
