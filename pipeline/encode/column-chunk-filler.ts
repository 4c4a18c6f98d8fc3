import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type DuckDBDataChunk,
  type DuckDBType,
  INTEGER,
  SMALLINT,
  TIMESTAMP,
  VARCHAR,
} from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import {
  type ColumnDef,
  type ColumnType,
  REQUEST_COLUMNS,
  type RequestRow,
} from '../../schemas/request-row.ts';
import { type PackedColumn, PackedRows, refuseValue } from './packed-rows.ts';

/** Rows per DuckDB data chunk: the engine's vector size (2,048). */
export const CHUNK_ROWS = duckdb.vector_size();

/** DuckDB's `string_t` is 16 bytes: a length, then up to 12 bytes inline or a prefix and a pointer. */
const STRING_T_BYTES = 16;
const INLINE_BYTES = 12;
// The `string_t` words are written in the platform's byte order, which DuckDB reads natively.

/** The DuckDB type a column's values are given in. */
export const duckdbTypeOf = (t: ColumnType): DuckDBType => {
  switch (t) {
    case 'timestamp':
      return TIMESTAMP;
    case 'string':
      return VARCHAR;
    case 'int16':
      return SMALLINT;
    case 'int32':
      return INTEGER;
    case 'int64':
      return BIGINT;
    case 'float64':
      return DOUBLE;
    case 'bool':
      return BOOLEAN;
  }
};

/** `out[i] = from[rows[i]]`: one packed number column's values of a chunk, in file order. */
const gather = <T extends BigInt64Array | Int32Array | Int16Array | Float64Array | Uint8Array>(
  from: T | BigInt64Array | Int32Array | Int16Array | Float64Array | Uint8Array,
  out: T,
  rows: Int32Array,
): void => {
  const values = from as unknown as Record<number, number>;
  const into = out as unknown as Record<number, number>;
  for (let i = 0; i < rows.length; i++) into[i] = values[rows[i]!]!;
};

type Gather = (rows: readonly RequestRow[], start: number, count: number, out: unknown[]) => void;

/**
 * One column's values of rows `start … start + count` into `out`, with the column name as a literal
 * property access (a generic `row[name]` loop is megamorphic); a column with a default gets it for
 * a missing value. Names come from the schema constant, never from data.
 */
const compileGather = (c: ColumnDef): Gather => {
  const read = `rows[start + i][${JSON.stringify(c.name)}]`;
  const value = c.default === undefined ? read : `(${read} ?? ${c.default})`;
  return new Function(
    'rows',
    'start',
    'count',
    'out',
    `for (let i = 0; i < count; i++) out[i] = ${value};`,
  ) as Gather;
};

const refuse = refuseValue;

/**
 * Fills DuckDB data chunks column by column from request rows, with a few native calls per column
 * and chunk of 2,048 rows instead of one per value (the appender's per-value API: ~0.25 µs a call,
 * 35 a row):
 * - numbers, timestamps and booleans: one typed-array copy into the vector;
 * - strings: the chunk's strings of a column are joined, UTF-8 encoded once and copied into the
 *   vector's string heap as one value; each row's `string_t` (DuckDB's C API layout: length, then
 *   12 bytes inline, or a 4-byte prefix and a pointer) is then written in JS: inline when short,
 *   otherwise pointing at its bytes inside that one heap copy. The heap lives as long as the chunk's
 *   data: until DuckDB resets the chunk for the next call of the scan that asked for it
 *   (`ParquetEncoder`'s table function), by when DuckDB has copied what it keeps.
 *
 * One filler per connection: it reuses its scratch buffers between calls.
 */
export class ColumnChunkFiller {
  private readonly gathers = REQUEST_COLUMNS.map(compileGather);
  private readonly values: unknown[] = new Array(CHUNK_ROWS).fill(null);
  private readonly validity = new Uint8Array(Math.ceil(CHUNK_ROWS / 64) * 8);
  private readonly strings = new Uint8Array(CHUNK_ROWS * STRING_T_BYTES);
  private readonly stringWords = new Uint32Array(this.strings.buffer);
  private readonly encoder = new TextEncoder();
  /** UTF-8 of one column's strings in a chunk; grows to the largest seen. */
  private utf8 = new Uint8Array(1 << 16);
  private readonly float64 = new Float64Array(CHUNK_ROWS);
  private readonly bigint64 = new BigInt64Array(CHUNK_ROWS);
  private readonly int32 = new Int32Array(CHUNK_ROWS * 2);
  private readonly int16 = new Int16Array(CHUNK_ROWS);
  private readonly bool = new Uint8Array(CHUNK_ROWS);
  /** Per row of a chunk's string column: its UTF-8 length, -1 for null. */
  private readonly lengths = new Int32Array(CHUNK_ROWS);
  /**
   * Fills `chunk` (a DuckDB data chunk of `REQUEST_COLUMNS`) with rows `start … start + count - 1` of
   * `rows` (count ≤ `CHUNK_ROWS`); throws a TypeError on a value its column cannot hold.
   */
  fillRows(chunk: DuckDBDataChunk, rows: readonly RequestRow[], start: number, count: number): void {
    chunk.reset();
    chunk.rowCount = count;
    for (let col = 0; col < REQUEST_COLUMNS.length; col++) {
      const c = REQUEST_COLUMNS[col] as ColumnDef;
      (this.gathers[col] as Gather)(rows, start, count, this.values);
      this.fillColumn(duckdb.data_chunk_get_vector(chunk.chunk, col), c, start, count);
    }
  }

  /**
   * Fills `chunk` with rows `rows` of `packed` (in that order, at most `CHUNK_ROWS`). Their values
   * were checked when packed, so nothing here refuses a value: numbers are gathered from typed
   * arrays, and a string column's bytes are copied from the packed bytes into one heap copy per
   * chunk, without encoding.
   */
  fillPackedRows(chunk: DuckDBDataChunk, packed: PackedRows, rows: Int32Array): void {
    const count = rows.length;
    chunk.reset();
    chunk.rowCount = count;
    for (let col = 0; col < REQUEST_COLUMNS.length; col++) {
      const column = packed.columns[col] as PackedColumn;
      const vector = duckdb.data_chunk_get_vector(chunk.chunk, col);
      if (column.kind === 'dict') {
        const values = this.values;
        for (let i = 0; i < count; i++) values[i] = packed.projectName(column.codes[rows[i]!]!);
        this.fillColumn(vector, column.def, 0, count);
      } else {
        this.fillPacked(vector, column, rows);
      }
    }
  }

  private fillPacked(
    vector: duckdb.Vector,
    column: Exclude<PackedColumn, { kind: 'dict' }>,
    rows: Int32Array,
  ): void {
    const count = rows.length;
    const nulls = column.nulls;
    let anyNull = false;
    if (nulls !== undefined) {
      const validity = this.validity;
      validity.fill(0xff);
      for (let i = 0; i < count; i++) {
        if (nulls[rows[i]!] === 1) {
          validity[i >> 3] = (validity[i >> 3] as number) & ~(1 << (i & 7));
          anyNull = true;
        }
      }
    }
    let data: ArrayBufferView;
    let width: number;
    if (column.kind === 'string') {
      this.fillPackedStrings(vector, column, rows);
      data = this.strings;
      width = STRING_T_BYTES;
    } else {
      const type = column.def.type;
      if (type === 'int64') {
        // Two little-endian 32-bit halves of each safe integer.
        const from = column.values as Float64Array;
        const out = this.int32;
        for (let i = 0; i < count; i++) {
          const v = from[rows[i]!]!;
          out[2 * i] = v >>> 0;
          out[2 * i + 1] = Math.floor(v / 4_294_967_296);
        }
        data = out;
        width = 8;
      } else {
        const out = this.scratchOf(type as Exclude<ColumnType, 'string' | 'int64'>);
        gather(column.values, out, rows);
        data = out;
        width = out.BYTES_PER_ELEMENT;
      }
    }
    duckdb.copy_data_to_vector(vector, 0, data.buffer as ArrayBuffer, data.byteOffset, count * width);
    if (anyNull) {
      duckdb.vector_ensure_validity_writable(vector);
      duckdb.copy_data_to_vector_validity(vector, 0, this.validity.buffer, 0, (count + 7) >> 3);
    }
  }

  /** As `fillStrings`, from packed UTF-8: the rows' bytes copied into one heap copy, in order. */
  private fillPackedStrings(
    vector: duckdb.Vector,
    column: Extract<PackedColumn, { kind: 'string' }>,
    rows: Int32Array,
  ): void {
    const { strings, lengths } = this;
    const { bytes: from, ends, nulls } = column;
    const count = rows.length;
    let total = 0;
    for (let i = 0; i < count; i++) {
      const r = rows[i]!;
      const length = ends[r]! - PackedRows.startOf(column, r);
      lengths[i] = nulls !== undefined && nulls[r] === 1 ? -1 : length;
      total += length;
    }
    strings.fill(0, 0, count * STRING_T_BYTES);
    if (total === 0) return;
    if (this.utf8.length < total) this.utf8 = new Uint8Array(total);
    const utf8 = this.utf8;
    let at = 0;
    for (let i = 0; i < count; i++) {
      const length = lengths[i]!;
      if (length <= 0) continue;
      const begin = ends[rows[i]!]! - length;
      // Most values are short: a loop costs less than a view and a native copy each.
      if (length <= 64) for (let j = 0; j < length; j++) utf8[at + j] = from[begin + j]!;
      else utf8.set(from.subarray(begin, begin + length), at);
      at += length;
    }
    this.writeStrings(vector, total, count);
  }

  /**
   * Writes the `string_t`s of a chunk's column into `this.strings`: `total` bytes of UTF-8 in
   * `this.utf8`, row after row, of the lengths in `this.lengths` (-1: null, no bytes). The bytes
   * are copied into the vector's string heap as one value; each row's `string_t` is then inline
   * when short, otherwise a prefix and a pointer into that one copy.
   */
  private writeStrings(vector: duckdb.Vector, total: number, count: number): void {
    const { strings, stringWords, utf8, lengths } = this;
    let pointerLow = 0;
    let pointerHigh = 0;
    if (total > INLINE_BYTES) {
      duckdb.vector_assign_string_element_len(vector, 0, utf8.subarray(0, total));
      const head = new Uint32Array(duckdb.vector_get_data(vector, STRING_T_BYTES).slice().buffer);
      pointerLow = head[2] as number;
      pointerHigh = head[3] as number;
    }
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const length = lengths[i]!;
      if (length < 0) continue;
      const word = i * 4;
      stringWords[word] = length;
      const at = i * STRING_T_BYTES + 4;
      if (length <= INLINE_BYTES) {
        for (let j = 0; j < length; j++) strings[at + j] = utf8[offset + j] as number;
      } else {
        for (let j = 0; j < 4; j++) strings[at + j] = utf8[offset + j] as number;
        const low = pointerLow + offset;
        stringWords[word + 2] = low >>> 0;
        stringWords[word + 3] = pointerHigh + (low > 0xffff_ffff ? 1 : 0);
      }
      offset += length;
    }
  }

  /** The scratch array a column of `type` is gathered into (int64 aside). */
  private scratchOf(
    type: Exclude<ColumnType, 'string' | 'int64'>,
  ): BigInt64Array | Int32Array | Int16Array | Float64Array | Uint8Array {
    switch (type) {
      case 'timestamp':
        return this.bigint64;
      case 'int32':
        return this.int32;
      case 'int16':
        return this.int16;
      case 'float64':
        return this.float64;
      case 'bool':
        return this.bool;
    }
  }

  private fillColumn(vector: duckdb.Vector, c: ColumnDef, start: number, count: number): void {
    const values = this.values;
    const validity = this.validity;
    validity.fill(0xff);
    let nulls = 0;
    const isNull = (i: number, v: unknown): boolean => {
      if (v !== null) return false;
      if (!c.nullable) refuse(c, start + i, v);
      validity[i >> 3] = (validity[i >> 3] as number) & ~(1 << (i & 7));
      nulls++;
      return true;
    };
    let data: ArrayBufferView;
    let width: number;
    switch (c.type) {
      case 'string':
        this.fillStrings(vector, c, start, count, isNull);
        data = this.strings;
        width = STRING_T_BYTES;
        break;
      case 'timestamp': {
        const out = this.bigint64;
        for (let i = 0; i < count; i++) {
          const v = values[i];
          if (typeof v === 'bigint') out[i] = v;
          else if (!isNull(i, v)) refuse(c, start + i, v);
        }
        data = out;
        width = 8;
        break;
      }
      case 'int64': {
        // Two little-endian 32-bit halves instead of a BigInt per value.
        const out = this.int32;
        for (let i = 0; i < count; i++) {
          const v = values[i];
          if (Number.isSafeInteger(v)) {
            out[2 * i] = (v as number) >>> 0;
            out[2 * i + 1] = Math.floor((v as number) / 4_294_967_296);
          } else if (!isNull(i, v)) refuse(c, start + i, v);
        }
        data = out;
        width = 8;
        break;
      }
      case 'int32': {
        const out = this.int32;
        for (let i = 0; i < count; i++) {
          const v = values[i];
          if (typeof v === 'number' && (v | 0) === v) out[i] = v;
          else if (!isNull(i, v)) refuse(c, start + i, v);
        }
        data = out;
        width = 4;
        break;
      }
      case 'int16': {
        const out = this.int16;
        for (let i = 0; i < count; i++) {
          const v = values[i];
          if (typeof v === 'number' && (v << 16) >> 16 === v) out[i] = v;
          else if (!isNull(i, v)) refuse(c, start + i, v);
        }
        data = out;
        width = 2;
        break;
      }
      case 'float64': {
        const out = this.float64;
        for (let i = 0; i < count; i++) {
          const v = values[i];
          if (typeof v === 'number') out[i] = v;
          else if (!isNull(i, v)) refuse(c, start + i, v);
        }
        data = out;
        width = 8;
        break;
      }
      case 'bool': {
        const out = this.bool;
        for (let i = 0; i < count; i++) {
          const v = values[i];
          if (typeof v === 'boolean') out[i] = v ? 1 : 0;
          else if (!isNull(i, v)) refuse(c, start + i, v);
        }
        data = out;
        width = 1;
        break;
      }
    }
    duckdb.copy_data_to_vector(vector, 0, data.buffer as ArrayBuffer, data.byteOffset, count * width);
    if (nulls > 0) {
      duckdb.vector_ensure_validity_writable(vector);
      duckdb.copy_data_to_vector_validity(vector, 0, validity.buffer, 0, (count + 7) >> 3);
    }
  }

  /** Writes the column's `string_t`s into `this.strings` and their bytes into the vector's heap. */
  private fillStrings(
    vector: duckdb.Vector,
    c: ColumnDef,
    start: number,
    count: number,
    isNull: (i: number, v: unknown) => boolean,
  ): void {
    const { values, strings } = this;
    values.length = count;
    let units = 0;
    for (let i = 0; i < count; i++) {
      const v = values[i];
      if (typeof v === 'string') units += v.length;
      else if (!isNull(i, v)) refuse(c, start + i, v);
    }
    strings.fill(0, 0, count * STRING_T_BYTES);
    if (units === 0) return;
    // join('') skips nulls; a UTF-16 unit is at most 3 UTF-8 bytes.
    const joined = values.join('');
    if (this.utf8.length < units * 3) this.utf8 = new Uint8Array(units * 3);
    const utf8 = this.utf8;
    const bytes = this.encoder.encodeInto(joined, utf8).written;
    // Every UTF-16 unit became one byte only if all are ASCII; otherwise lengths are measured.
    const ascii = bytes === joined.length;
    const lengths = this.lengths;
    for (let i = 0; i < count; i++) {
      const v = values[i];
      lengths[i] = typeof v !== 'string' ? -1 : ascii ? v.length : Buffer.byteLength(v, 'utf8');
    }
    this.writeStrings(vector, bytes, count);
  }
}
