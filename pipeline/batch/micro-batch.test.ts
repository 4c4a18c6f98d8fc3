import { describe, expect, it } from 'vitest';
import { FileBudget, MicroBatch, ROW_HEAP_PER_LINE_BYTE } from './micro-batch.ts';
import { WorkerMemory } from './worker-memory.ts';

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
    byRows.refs.push(0, 1, 2);
    byRows.addRecord('1', 0, 1, 0);
    expect(byRows.due(0)).toBe('rows');
  });

  it('counts its rows at their line plus their heap against the worker, until detached', () => {
    // Prepare
    const memory = new WorkerMemory(3_000);
    const batch = new MicroBatch({ ...limits, maxRows: 100, maxBytes: 1e9 }, memory);

    // Act: one record of one 500-byte line.
    batch.refs.push(0);
    batch.addRecord('1', 0, 500, 0, 500);
    const held = memory.bytes;
    const dueBelow = batch.due(0);
    batch.refs.push(1);
    batch.addRecord('2', 0, 500, 0, 500);
    const dueOver = batch.due(0);
    batch.detach();
    batch.detach();

    // Assess
    expect(held).toBe(500 * (1 + ROW_HEAP_PER_LINE_BYTE));
    expect([dueBelow, dueOver]).toEqual([undefined, 'memory']);
    expect([memory.bytes, memory.peak]).toEqual([0, 2 * held]);
  });

  it('is due early (fresh) only when allowed, once its oldest record arrived freshAgeMs ago', () => {
    // Prepare: arrivals at 1,000 and 1,500; taken in at 2,000.
    const batch = new MicroBatch({ ...limits, maxRows: 100, maxBytes: 1e9, freshAgeMs: 1_000 });
    batch.addRecord('1', 1_500, 1, 2_000);
    batch.addRecord('2', 1_000, 1, 2_000);

    // Act / Assess
    expect(batch.due(1_999, true)).toBeUndefined();
    expect(batch.due(2_000, true)).toBe('fresh');
    expect(batch.due(2_000, false)).toBeUndefined();
    expect(batch.due(7_000, false)).toBe('age');
  });
});

describe('FileBudget', () => {
  it('allows a burst of early files, then one per refill interval, and never goes below empty', () => {
    // Prepare
    const budget = new FileBudget(2, 5_000, 0);

    // Act
    const taken: boolean[] = [];
    for (const now of [0, 0, 0]) {
      taken.push(budget.allows(now));
      budget.spend(now);
    }
    const afterHalf = budget.allows(2_500);
    const afterFull = budget.allows(5_000);
    budget.spend(5_000);
    const rightAfter = budget.allows(5_000);
    const muchLater = [budget.allows(1e9), budget.allows(1e9)];

    // Assess
    expect(taken).toEqual([true, true, false]);
    expect([afterHalf, afterFull, rightAfter]).toEqual([false, true, false]);
    expect(muchLater).toEqual([true, true]);
  });

  it('allows nothing with a burst of 0', () => {
    expect(new FileBudget(0, 1_000, 0).allows(1e9)).toBe(false);
  });
});
