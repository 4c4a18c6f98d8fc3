import { type ColumnDef, REQUEST_COLUMNS, type RequestRow } from '../../schemas/request-row.ts';

/**
 * Request rows held column by column in typed arrays, from the moment a row is made until its
 * batch is encoded: what a stage holds for a processor's open batch.
 *
 * Held as objects, a row took ~1,060 bytes of V8 heap (bench:pipeline's generated traffic) and,
 * living for its batch (seconds), reached the old generation and died there; its original line
 * (~850 bytes) was held beside it for a dead letter should the encoder refuse it. Packed, the
 * same row takes ~730 bytes in a few buffers that are reused batch after batch (no garbage), and
 * every value is checked as it is packed, with the checks the encoder makes (`refuseValue`), so a
 * row the encoder could not hold is refused while its line is still at hand.
 *
 * Layout, per column of REQUEST_COLUMNS:
 * - strings: the UTF-8 bytes of every row's value one after the other, and the end of each row's
 *   bytes (`Int32Array`); `project_id`, which orders a file, as a code into a dictionary of names;
 * - `timestamp`: `BigInt64Array`; `int16` / `int32`: `Int16Array` / `Int32Array`; `int64` (safe
 *   integers) and `float64`: `Float64Array`; `bool`: `Uint8Array`;
 * - nullable columns: one byte a row, 1 for null.
 *
 * Rows are appended at the end and dropped from the front once encoded (`dropHead`), which moves
 * what is left to the front of each buffer; capacity grows by doubling and is given back when it
 * is more than four times what the last period between two drops needed.
 */

/** A value a column cannot hold: the column, the row and the value's type, never the value. */
export const refusal = (c: ColumnDef, row: number, v: unknown): TypeError => {
  // The value's type, never the value: an error message may end up in logs and dead letters.
  const got = v === null ? 'null' : typeof v;
  return new TypeError(
    `column ${c.name} (${c.type}${c.nullable ? ', nullable' : ''}) of row ${row}: got ${got}, which it cannot hold`,
  );
};

/** Throws `refusal(c, row, v)`. */
export const refuseValue = (c: ColumnDef, row: number, v: unknown): never => {
  throw refusal(c, row, v);
};

type Numbers = BigInt64Array | Int16Array | Int32Array | Float64Array | Uint8Array;

interface StringColumn extends Utf8Run {
  readonly def: ColumnDef;
  readonly kind: 'string';
  nulls: Uint8Array | undefined;
}

interface NumberColumn {
  readonly def: ColumnDef;
  readonly kind: 'number';
  values: Numbers;
  nulls: Uint8Array | undefined;
}

interface DictColumn {
  readonly def: ColumnDef;
  readonly kind: 'dict';
  codes: Int32Array;
}

export type PackedColumn = StringColumn | NumberColumn | DictColumn;

/** Bytes not zeroed and never from Node's shared pool (a view of a pool slab keeps the slab). */
const newBytes = (n: number): Buffer => Buffer.allocUnsafeSlow(n);

/**
 * Writes `v` as UTF-8 at `at` (room for `3 * v.length` bytes is there) and returns the end. Short
 * ASCII strings, most of a row's, are copied in JavaScript: a native call each cost more.
 */
const writeUtf8 = (bytes: Buffer, at: number, v: string): number => {
  const n = v.length;
  if (n > 48) return at + bytes.write(v, at, 'utf8');
  for (let i = 0; i < n; i++) {
    const code = v.charCodeAt(i);
    if (code >= 0x80) return at + i + bytes.write(v.slice(i), at + i, 'utf8');
    bytes[at + i] = code;
  }
  return at + n;
};

/** Strings one after the other as UTF-8 (`bytes` up to `used`), entry `i` ending at `ends[i]`. */
interface Utf8Run {
  bytes: Buffer;
  used: number;
  ends: Int32Array;
}

/** Appends `v` to `run` as entry `i` (its `ends` has room for it). */
const appendUtf8 = (run: Utf8Run, i: number, v: string): void => {
  // A UTF-16 unit is at most 3 UTF-8 bytes.
  const need = run.used + v.length * 3;
  if (need > run.bytes.length) {
    const next = newBytes(Math.max(need, run.bytes.length * 2));
    run.bytes.copy(next, 0, 0, run.used);
    run.bytes = next;
  }
  run.used = writeUtf8(run.bytes, run.used, v);
  run.ends[i] = run.used;
};

/** Where entry `i` of `run` starts. */
const startOfUtf8 = (run: Utf8Run, i: number): number => (i === 0 ? 0 : run.ends[i - 1]!);

/** Forgets the first `drop` (≥ 1) of `length` entries, moving the rest to the front. */
const dropUtf8Head = (run: Utf8Run, drop: number, length: number): void => {
  const from = run.ends[drop - 1]!;
  run.bytes.copyWithin(0, from, run.used);
  run.used -= from;
  run.ends.copyWithin(0, drop, length);
  for (let i = 0; i < length - drop; i++) run.ends[i] = run.ends[i]! - from;
};

/** `run.bytes` in a buffer of `size` bytes (at least `run.used`). */
const resizeUtf8 = (run: Utf8Run, size: number): void => {
  const next = newBytes(size);
  run.bytes.copy(next, 0, 0, run.used);
  run.bytes = next;
};

const INITIAL_ROWS = 256;
const INITIAL_BYTES = 4096;
/** Column whose dictionary codes order a file (with `ts`): see `sortedOrder`. */
const PROJECT = 'project_id';

const numbersOf = (c: ColumnDef, rows: number): Numbers => {
  switch (c.type) {
    case 'timestamp':
      return new BigInt64Array(rows);
    case 'int16':
      return new Int16Array(rows);
    case 'int32':
      return new Int32Array(rows);
    case 'int64':
    case 'float64':
      return new Float64Array(rows);
    case 'bool':
      return new Uint8Array(rows);
    case 'string':
      throw new RangeError(`column ${c.name} holds strings, not numbers`);
  }
};

/** `a` in an array of `rows` (larger or smaller), its first values kept. */
const resized = <T extends Numbers | Int32Array>(a: T, rows: number, make: (n: number) => T): T => {
  const next = make(rows);
  (next as Uint8Array).set((a as Uint8Array).subarray(0, Math.min(a.length, rows)));
  return next;
};

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The check a number column makes of `v`, as JavaScript: true when the column cannot hold it. */
const refusedNumber = (type: ColumnDef['type']): string => {
  switch (type) {
    case 'timestamp':
      return "typeof v !== 'bigint' || v < MIN || v > MAX";
    case 'int64':
      return '!Number.isSafeInteger(v)';
    case 'int32':
      return "typeof v !== 'number' || (v | 0) !== v";
    case 'int16':
      return "typeof v !== 'number' || (v << 16) >> 16 !== v";
    case 'float64':
      return "typeof v !== 'number'";
    case 'bool':
      return "typeof v !== 'boolean'";
    case 'string':
      throw new RangeError('strings are not numbers');
  }
};

type AppendRow = (row: RequestRow, i: number) => void;

/**
 * Compiles the append of one row into `columns`: straight-line code, one block a column with its
 * name as a literal property access and its own checks. A loop calling one `put` for every column
 * was megamorphic (45 columns of 3 layouts, values of 5 types) and took ~5 µs a row.
 */
const compileAppend = (columns: readonly PackedColumn[], codeOf: (name: string) => number): AppendRow => {
  const body: string[] = ['let v, c;'];
  columns.forEach((column, k) => {
    const def = column.def;
    body.push(`c = C[${k}]; v = row[${JSON.stringify(def.name)}];`);
    if (def.default !== undefined) body.push(`if (v === undefined) v = ${JSON.stringify(def.default)};`);
    const refuse = `throw refusal(c.def, i, v);`;
    if (column.kind === 'dict') {
      body.push(`if (typeof v !== 'string') ${refuse}`, 'c.codes[i] = codeOf(v);');
      return;
    }
    const store =
      column.kind === 'string'
        ? [`if (typeof v !== 'string') ${refuse}`, 'appendUtf8(c, i, v);']
        : [
            `if (${refusedNumber(def.type)}) ${refuse}`,
            def.type === 'bool' ? 'c.values[i] = v ? 1 : 0;' : 'c.values[i] = v;',
          ];
    if (column.nulls === undefined) {
      // null fails the column's check, as any value of a wrong type.
      body.push(...store);
      return;
    }
    body.push(
      'if (v === null) {',
      'c.nulls[i] = 1;',
      ...(column.kind === 'string' ? ['c.ends[i] = c.used;'] : []),
      '} else {',
      'c.nulls[i] = 0;',
      ...store,
      '}',
    );
  });
  const make = new Function(
    'C',
    'codeOf',
    'appendUtf8',
    'refusal',
    'MIN',
    'MAX',
    `return function appendRow(row, i) {\n${body.join('\n')}\n};`,
  );
  return make(columns, codeOf, appendUtf8, refusal, INT64_MIN, INT64_MAX) as AppendRow;
};

export class PackedRows {
  readonly columns: readonly PackedColumn[];
  /** Rows held. */
  length = 0;
  private capacity = INITIAL_ROWS;
  /** Most rows held since the last `dropHead`: the capacity the next period likely needs. */
  private peak = 0;
  /** `project_id` names by code, and codes by name. */
  private names: string[] = [];
  private codes = new Map<string, number>();
  private readonly decoder = new TextDecoder();
  private readonly project: DictColumn;
  private readonly appendRow: AppendRow;

  constructor() {
    this.columns = REQUEST_COLUMNS.map((def): PackedColumn => {
      const nulls = def.nullable ? new Uint8Array(INITIAL_ROWS) : undefined;
      if (def.name === PROJECT) return { def, kind: 'dict', codes: new Int32Array(INITIAL_ROWS) };
      if (def.type === 'string') {
        return {
          def,
          kind: 'string',
          bytes: newBytes(INITIAL_BYTES),
          used: 0,
          ends: new Int32Array(INITIAL_ROWS),
          nulls,
        };
      }
      return { def, kind: 'number', values: numbersOf(def, INITIAL_ROWS), nulls };
    });
    this.project = this.columns.find((c): c is DictColumn => c.kind === 'dict')!;
    this.appendRow = compileAppend(this.columns, (name) => this.codeOf(name));
  }

  /** Bytes the buffers take (capacity, not only what is in use). */
  get bytes(): number {
    let n = 0;
    for (const c of this.columns) {
      if (c.kind === 'dict') n += c.codes.byteLength;
      else if (c.kind === 'string') n += c.bytes.byteLength + c.ends.byteLength + (c.nulls?.byteLength ?? 0);
      else n += c.values.byteLength + (c.nulls?.byteLength ?? 0);
    }
    return n;
  }

  /** The `project_id` of a dictionary code. */
  projectName(code: number): string {
    return this.names[code]!;
  }

  /**
   * Appends `row` as row `length`. Throws a TypeError (`refuseValue`) when a value is not one its
   * column can hold, and then holds nothing of the row.
   */
  append(row: RequestRow): void {
    const i = this.length;
    if (i === this.capacity) this.resize(this.capacity * 2);
    try {
      this.appendRow(row, i);
    } catch (error) {
      // Undo the strings already appended (their `used` moved on); numbers are overwritten later.
      for (const c of this.columns) if (c.kind === 'string') c.used = startOfUtf8(c, i);
      throw error;
    }
    this.length = i + 1;
    if (this.length > this.peak) this.peak = this.length;
  }

  /** The dictionary code of a `project_id`, given one if it has none. */
  private codeOf(name: string): number {
    let code = this.codes.get(name);
    if (code === undefined) {
      code = this.names.length;
      this.names.push(name);
      this.codes.set(name, code);
    }
    return code;
  }

  /** Row `i`'s bytes of a string column: [start, end) in `column.bytes`. */
  static startOf(column: StringColumn, i: number): number {
    return startOfUtf8(column, i);
  }

  /** Forgets rows from `n` on (they were just appended). */
  truncate(n: number): void {
    if (n >= this.length) return;
    for (const c of this.columns) if (c.kind === 'string') c.used = startOfUtf8(c, n);
    this.length = n;
  }

  /** Forgets the first `n` rows; row `n` becomes row 0. */
  dropHead(n: number): void {
    const drop = Math.min(n, this.length);
    const keep = this.length - drop;
    if (drop > 0) {
      for (const c of this.columns) {
        if (c.kind === 'dict') {
          c.codes.copyWithin(0, drop, this.length);
          continue;
        }
        if (c.nulls !== undefined) c.nulls.copyWithin(0, drop, this.length);
        if (c.kind === 'number') {
          c.values.copyWithin(0, drop, this.length);
          continue;
        }
        dropUtf8Head(c, drop, this.length);
      }
      this.length = keep;
    }
    // Names no row refers to any more (a project seen once, long ago) are forgotten.
    if (this.names.length > 64 && this.names.length > 2 * keep) this.recode();
    const wanted = Math.max(INITIAL_ROWS, this.peak, keep);
    if (this.capacity > 4 * wanted) this.resize(Math.max(INITIAL_ROWS, 2 * wanted));
    this.peak = keep;
  }

  private recode(): void {
    const names: string[] = [];
    const codes = new Map<string, number>();
    const column = this.project.codes;
    for (let i = 0; i < this.length; i++) {
      const name = this.names[column[i]!]!;
      let code = codes.get(name);
      if (code === undefined) {
        code = names.length;
        names.push(name);
        codes.set(name, code);
      }
      column[i] = code;
    }
    this.names = names;
    this.codes = codes;
  }

  private resize(rows: number): void {
    for (const c of this.columns) {
      if (c.kind === 'dict') {
        c.codes = resized(c.codes, rows, (n) => new Int32Array(n));
        continue;
      }
      if (c.nulls !== undefined) c.nulls = resized(c.nulls, rows, (n) => new Uint8Array(n));
      if (c.kind === 'number') {
        c.values = resized(c.values, rows, (n) => numbersOf(c.def, n));
        continue;
      }
      c.ends = resized(c.ends, rows, (n) => new Int32Array(n));
      // Bytes in proportion: what a row of the column took on average in the period, twice over.
      const room = Math.max(INITIAL_BYTES, c.used, Math.ceil((c.bytes.length / this.capacity) * rows));
      if (c.bytes.length > 2 * room) resizeUtf8(c, room);
    }
    this.capacity = rows;
  }

  /**
   * Rows `indices` in file order: by `project_id` (as JavaScript orders strings), then `ts`, ties
   * in the order given (the sort is stable), as `sortedByProjectAndTime` orders row objects.
   */
  sortedOrder(indices: ArrayLike<number>): Int32Array {
    const n = indices.length;
    const codes = this.project.codes;
    const ts = (this.columns[REQUEST_COLUMNS.findIndex((c) => c.name === 'ts')] as NumberColumn)
      .values as BigInt64Array;
    // Each project's rank among the projects of these rows.
    const seen = new Map<number, number>();
    for (let i = 0; i < n; i++) seen.set(codes[indices[i]!]!, 0);
    const ranked = [...seen.keys()].sort((a, b) => {
      const x = this.names[a]!;
      const y = this.names[b]!;
      return x < y ? -1 : x > y ? 1 : 0;
    });
    for (let r = 0; r < ranked.length; r++) seen.set(ranked[r]!, r);
    const rank = new Int32Array(n);
    for (let i = 0; i < n; i++) rank[i] = seen.get(codes[indices[i]!]!)!;
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => {
      const d = rank[a]! - rank[b]!;
      if (d !== 0) return d;
      const ta = ts[indices[a]!]!;
      const tb = ts[indices[b]!]!;
      return ta < tb ? -1 : ta > tb ? 1 : a - b;
    });
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = indices[order[i]!]!;
    return out;
  }

  /** Row `i` as an object again (the bisect for rows an encoder refuses, tests). */
  row(i: number): RequestRow {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`row ${i} is not held (${this.length} rows)`);
    const row: Record<string, unknown> = {};
    for (const c of this.columns) {
      const name = c.def.name;
      if (c.kind === 'dict') {
        row[name] = this.names[c.codes[i]!];
        continue;
      }
      if (c.nulls?.[i] === 1) {
        row[name] = null;
        continue;
      }
      if (c.kind === 'string') {
        row[name] = this.decoder.decode(c.bytes.subarray(PackedRows.startOf(c, i), c.ends[i]!));
        continue;
      }
      const v = c.values[i]!;
      row[name] = c.def.type === 'bool' ? v === 1 : v;
    }
    return row as unknown as RequestRow;
  }
}

/** Strings one after the other as UTF-8, by position: what a stage keeps of a row beside its columns. */
export class PackedStrings {
  private readonly run: Utf8Run = {
    bytes: newBytes(INITIAL_BYTES),
    used: 0,
    ends: new Int32Array(INITIAL_ROWS),
  };
  length = 0;
  /** Most bytes and strings held since the last `dropHead`. */
  private peakBytes = 0;
  private peak = 0;
  private readonly decoder = new TextDecoder();

  push(v: string): void {
    const run = this.run;
    if (this.length === run.ends.length)
      run.ends = resized(run.ends, this.length * 2, (n) => new Int32Array(n));
    appendUtf8(run, this.length++, v);
    if (run.used > this.peakBytes) this.peakBytes = run.used;
    if (this.length > this.peak) this.peak = this.length;
  }

  get(i: number): string {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`string ${i} is not held (${this.length})`);
    return this.decoder.decode(this.run.bytes.subarray(startOfUtf8(this.run, i), this.run.ends[i]!));
  }

  truncate(n: number): void {
    if (n >= this.length) return;
    this.run.used = startOfUtf8(this.run, n);
    this.length = n;
  }

  dropHead(n: number): void {
    const drop = Math.min(n, this.length);
    if (drop === 0) return;
    const run = this.run;
    dropUtf8Head(run, drop, this.length);
    this.length -= drop;
    // Capacity more than 4 times what the period since the last drop needed is given back.
    const wanted = Math.max(INITIAL_ROWS, this.peak, this.length);
    if (run.ends.length > 4 * wanted) run.ends = resized(run.ends, 2 * wanted, (n) => new Int32Array(n));
    const room = Math.max(INITIAL_BYTES, this.peakBytes, run.used);
    if (run.bytes.length > 4 * room) resizeUtf8(run, 2 * room);
    this.peak = this.length;
    this.peakBytes = run.used;
  }
}
