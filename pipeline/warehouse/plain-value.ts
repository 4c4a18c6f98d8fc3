import {
  DuckDBArrayValue,
  DuckDBDecimalValue,
  DuckDBListValue,
  DuckDBStructValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  type DuckDBValue,
} from '@duckdb/node-api';

/** `2025-01-15T10:00:00.123456Z`: ISO 8601 with all six digits, so no microsecond is lost. */
const isoMicros = (micros: bigint): string => {
  let ms = micros / 1000n;
  let sub = micros % 1000n;
  if (sub < 0n) {
    ms -= 1n;
    sub += 1000n;
  }
  return `${new Date(Number(ms)).toISOString().slice(0, -1)}${String(sub).padStart(3, '0')}Z`;
};

/**
 * A DuckDB value as plain, JSON-friendly JavaScript: BIGINTs become numbers when they fit
 * (else decimal strings), timestamps ISO strings in UTC, decimals numbers, lists arrays, structs
 * objects; anything else its DuckDB text form.
 */
export const toPlainValue = (value: DuckDBValue): unknown => {
  if (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  ) {
    return value;
  }
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (value instanceof DuckDBTimestampValue || value instanceof DuckDBTimestampTZValue) {
    return value.isFinite ? isoMicros(value.micros) : value.toString();
  }
  if (value instanceof DuckDBTimestampMillisecondsValue) return isoMicros(value.millis * 1000n);
  if (value instanceof DuckDBTimestampSecondsValue) return isoMicros(value.seconds * 1_000_000n);
  if (value instanceof DuckDBTimestampNanosecondsValue) return isoMicros(value.nanos / 1000n);
  if (value instanceof DuckDBDecimalValue) return value.toDouble();
  if (value instanceof DuckDBListValue || value instanceof DuckDBArrayValue)
    return value.items.map(toPlainValue);
  if (value instanceof DuckDBStructValue) {
    return Object.fromEntries(Object.entries(value.entries).map(([k, v]) => [k, toPlainValue(v)]));
  }
  return String(value);
};
