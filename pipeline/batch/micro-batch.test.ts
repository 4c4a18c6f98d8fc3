import { describe, expect, it } from 'vitest';
import { MicroBatch } from './micro-batch.ts';

const limits = { maxRows: 3, maxBytes: 1_000, maxAgeMs: 5_000 };

describe('MicroBatch', () => {
  it('is never due while empty, whatever the clock says', () => {
    const batch = new MicroBatch(limits);
    expect(batch.due(1e12)).toBeUndefined();
  });

  it('tracks the sequence range and the newest arrival', () => {
    const batch = new MicroBatch(limits);
    batch.addRecord('100', 2_000, 10, 0);
    batch.addRecord('105', 1_000, 10, 0);
    expect([batch.firstSequence, batch.lastSequence, batch.newestArrival, batch.oldestArrival]).toEqual([
      '100',
      '105',
      2_000,
      1_000,
    ]);
  });

  it('is due on age, measured from its first record', () => {
    const batch = new MicroBatch(limits);
    batch.addRecord('1', 0, 1, 10_000);
    expect(batch.due(14_999)).toBeUndefined();
    expect(batch.due(15_000)).toBe('age');
  });

  it('is due on bytes and on rows', () => {
    const byBytes = new MicroBatch(limits);
    byBytes.addRecord('1', 0, 1_000, 0);
    expect(byBytes.due(0)).toBe('bytes');

    const byRows = new MicroBatch(limits);
    byRows.rows.push({} as never, {} as never, {} as never);
    byRows.addRecord('1', 0, 1, 0);
    expect(byRows.due(0)).toBe('rows');
  });
});
