import { describe, expect, it } from 'vitest';
import { RequestLogV1 } from '../../schemas/request-log.ts';
import { DemoPlan, type DemoPlanOptions } from './demo-plan.ts';

const options = (over: Partial<DemoPlanOptions> = {}): DemoPlanOptions => ({
  events: 6_000,
  seed: 3,
  malformedRatio: 0.004,
  duplicateRatio: 0.03,
  traffic: { startTime: Date.parse('2025-01-15T10:00:00Z'), ratePerSecond: 500 },
  collectRequestIds: true,
  ...over,
});

const run = (plan: DemoPlan): Buffer[][] => [...plan.attempts()].map((a) => [...a]);

const isValid = (line: Buffer): boolean => {
  try {
    return RequestLogV1.safeParse(JSON.parse(line.toString('utf8'))).success;
  } catch {
    return false;
  }
};

describe('DemoPlan', () => {
  it('sends exactly `events` lines: sent = uniqueValid + duplicates + malformed', () => {
    // Prepare
    const plan = new DemoPlan(options());

    // Act
    const lines = run(plan).flat();
    const t = plan.tally;

    // Assess
    expect(lines).toHaveLength(6_000);
    expect(t.sent).toBe(6_000);
    expect(t.uniqueValid + t.duplicates + t.malformed).toBe(t.sent);
    expect(t.valid).toBe(t.uniqueValid + t.duplicates);
    expect(t.malformed).toBe(24);
    expect(t.duplicates).toBe(180);
    expect(Object.values(t.malformedByKind).reduce((a, b) => a + b, 0)).toBe(t.malformed);
    expect(t.requestIds?.size).toBe(t.uniqueValid);
  });

  it('counts lines as they really are: valid ones parse, malformed ones do not, copies are byte-identical', () => {
    // Prepare
    const plan = new DemoPlan(options());

    // Act
    const lines = run(plan).flat();
    const copies = new Map<string, number>();
    const valid = lines.filter(isValid);
    for (const line of valid)
      copies.set(line.toString('latin1'), (copies.get(line.toString('latin1')) ?? 0) + 1);
    const repeated = [...copies.entries()].filter(([, n]) => n > 1);

    // Assess
    expect(valid).toHaveLength(plan.tally.valid);
    expect(lines.length - valid.length).toBe(plan.tally.malformed);
    expect(repeated.reduce((sum, [, n]) => sum + n - 1, 0)).toBe(plan.tally.duplicates);
    const ids = new Set(
      valid.map(
        (l) => JSON.parse(l.toString()).request_id ?? JSON.parse(l.toString()).headers['x-request-id'],
      ),
    );
    expect(ids).toEqual(plan.tally.requestIds);
  });

  it('resends in bursts, like whole-chunk retries, not one line here and there', () => {
    // Prepare
    const plan = new DemoPlan(options({ events: 20_000 }));

    // Act
    const attempts = run(plan);
    const seen = new Set<string>();
    const resendSizes: number[] = [];
    for (const attempt of attempts) {
      const valid = attempt.filter(isValid).map((l) => l.toString('latin1'));
      const again = valid.filter((l) => seen.has(l)).length;
      if (again > 0) resendSizes.push(again);
      for (const l of valid) seen.add(l);
    }

    // Assess
    expect(resendSizes.length).toBeGreaterThan(1);
    expect(resendSizes.length).toBeLessThan(attempts.length / 2);
    expect(resendSizes.reduce((a, b) => a + b, 0)).toBe(plan.tally.duplicates);
    expect(Math.max(...resendSizes)).toBeGreaterThanOrEqual(20);
  });

  it('is deterministic for a seed and honours zero ratios', () => {
    // Act
    const a = run(new DemoPlan(options({ events: 1_500 })));
    const b = run(new DemoPlan(options({ events: 1_500 })));
    const clean = new DemoPlan(options({ events: 1_500, malformedRatio: 0, duplicateRatio: 0 }));
    run(clean);

    // Assess
    expect(Buffer.concat(b.flat()).equals(Buffer.concat(a.flat()))).toBe(true);
    expect(clean.tally).toMatchObject({ sent: 1_500, uniqueValid: 1_500, duplicates: 0, malformed: 0 });
  });

  it('still adds up for tiny runs', () => {
    // Act
    const tallies = [0, 1, 2, 7, 40].map((events) => {
      const plan = new DemoPlan(options({ events, malformedRatio: 0.2, duplicateRatio: 0.3 }));
      const lines = run(plan).flat();
      return { events, lines: lines.length, ...plan.tally };
    });

    // Assess
    for (const t of tallies) {
      expect(t.lines).toBe(t.events);
      expect(t.uniqueValid + t.duplicates + t.malformed).toBe(t.events);
    }
  });
});
