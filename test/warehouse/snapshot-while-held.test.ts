import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SnapshotRefresh, WarehouseSnapshot } from '../../consumers/cli/warehouse-reader.ts';
import { DuckDbWarehouse } from '../../pipeline/warehouse/duckdb-warehouse.ts';

/**
 * The readers' snapshot is a copy of the warehouse file. Another process (`shardline replay`,
 * `compact`, `dead-letters`) may open the warehouse whenever the loader lets go of it, so the
 * loader copies it only while holding it (`DuckDbWarehouse.whileHeld`): a copy taken while
 * another process writes can be unreadable.
 */

/** Whether a separate process can open `file` read-write right now (as those commands do). */
const anotherProcessCanOpen = async (file: string): Promise<boolean> => {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `require('@duckdb/node-api').DuckDBInstance.create(process.argv[1]).then(
         (i) => { i.closeSync(); process.stdout.write('opened'); },
         (e) => process.stdout.write(/lock/i.test(String(e)) ? 'locked' : 'error: ' + e));`,
      file,
    ],
    { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await new Promise((resolve) => child.once('exit', resolve));
  if (out !== 'opened' && out !== 'locked') throw new Error(`unexpected child output: ${out}`);
  return out === 'opened';
};

let dir: string;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snapshot-held-'));
  file = join(dir, 'warehouse.duckdb');
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  await connection.run('CREATE TABLE t AS SELECT range AS n FROM range(1000)');
  connection.closeSync();
  instance.closeSync();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('copying the readers snapshot', () => {
  it('whileHeld keeps every other process out of the warehouse file while its task runs, and lets go after', async () => {
    // Prepare: a warehouse that does not keep its file open between calls.
    const warehouse = await DuckDbWarehouse.open(file, { lingerMs: 0 });
    try {
      // Act
      const during = await warehouse.whileHeld(() => anotherProcessCanOpen(file));
      const after = await anotherProcessCanOpen(file);

      // Assess
      expect({ during, after }).toEqual({ during: false, after: true });
    } finally {
      await warehouse.close();
    }
  }, 30_000);

  it('does not count a file with writes not yet checkpointed as copied: readers keep the last snapshot', async () => {
    // Prepare: another file, written by a process that has not checkpointed (its WAL holds the write).
    const walFile = join(dir, 'wal.duckdb');
    const writer = await DuckDBInstance.create(walFile);
    const connection = await writer.connect();
    await connection.run("SET wal_autocheckpoint = '1GB'");
    await connection.run('CREATE TABLE t AS SELECT range AS n FROM range(10)');
    const snapshot = new WarehouseSnapshot(walFile, { minIntervalMs: 0 });

    // Act
    const whileWritten = await snapshot.refresh();
    connection.closeSync();
    writer.closeSync();
    const afterClose = await snapshot.refresh();

    // Assess
    expect(existsSync(`${walFile}.wal`)).toBe(false);
    expect(whileWritten.state).toBe('deferred');
    expect(afterClose.state).toBe('copied');
  });

  it('makes the copy inside the hold it is given, and asks for none when there is nothing to copy', async () => {
    // Prepare
    const snapshot = new WarehouseSnapshot(file, { minIntervalMs: 0 });
    const holds: boolean[] = [];
    let held = false;
    const hold = async (copy: () => Promise<SnapshotRefresh>) => {
      held = true;
      try {
        const done = await copy();
        holds.push(existsSync(snapshot.path));
        return done;
      } finally {
        held = false;
      }
    };

    // Act
    const first = await snapshot.refresh({ hold });
    const second = await snapshot.refresh({ hold });

    // Assess: copied once, inside the hold (the snapshot existed before the hold ended).
    expect(first.state).toBe('copied');
    expect(second.state).toBe('current');
    expect(holds).toEqual([true]);
    expect(held).toBe(false);
  });
});
