import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { toPlainValue } from './plain-value.ts';

const selectOne = async (sql: string): Promise<unknown[]> => {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    const [row] = (await db.runAndReadAll(sql)).getRows();
    return (row ?? []).map(toPlainValue);
  } finally {
    db.closeSync();
    instance.closeSync();
  }
};

describe('toPlainValue', () => {
  it('turns BIGINTs into numbers when safe and into decimal strings when not', async () => {
    // Act
    const values = await selectOne(
      'SELECT 42::BIGINT, 9007199254740993::BIGINT, -9007199254740993::BIGINT, 7::HUGEINT',
    );

    // Assess
    expect(values).toEqual([42, '9007199254740993', '-9007199254740993', 7]);
  });

  it('turns timestamps of every precision into UTC ISO strings with microseconds', async () => {
    // Act
    const values = await selectOne(`SELECT
      TIMESTAMP '2025-01-15 10:00:00.123456',
      TIMESTAMP '1969-12-31 23:59:59.999999',
      TIMESTAMP_MS '2025-01-15 10:00:00.123',
      TIMESTAMP_S '2025-01-15 10:00:01',
      TIMESTAMP_NS '2025-01-15 10:00:00.123456789',
      'infinity'::TIMESTAMP`);

    // Assess
    expect(values).toEqual([
      '2025-01-15T10:00:00.123456Z',
      '1969-12-31T23:59:59.999999Z',
      '2025-01-15T10:00:00.123000Z',
      '2025-01-15T10:00:01.000000Z',
      '2025-01-15T10:00:00.123456Z',
      'infinity',
    ]);
  });

  it('keeps scalars, converts decimals, lists and structs, and prints other types as text', async () => {
    // Act
    const values = await selectOne(
      `SELECT 'a', 1.5::DOUBLE, true, NULL, 12.34::DECIMAL(6,2), [1, 2]::BIGINT[], {'n': 1::BIGINT, 's': 'x'}, DATE '2025-01-15'`,
    );

    // Assess
    expect(values).toEqual(['a', 1.5, true, null, 12.34, [1, 2], { n: 1, s: 'x' }, '2025-01-15']);
  });
});
