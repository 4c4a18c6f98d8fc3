import { ConfigError } from '../../pipeline/errors.ts';
import { isShardEnd } from '../checkpoint-store.ts';
import { createDynamoClient } from '../leases/dynamo-client.ts';
import type { Lease } from '../leases/lease.ts';
import { LeaseTable } from '../leases/lease-table.ts';
import type { ConsumeConfig } from './consume-config.ts';

export interface LeasesOptions {
  readonly format: 'table' | 'json';
  readonly write?: (text: string) => void;
}

/** `shardline leases`: one line per shard lease, as the workers see it. */
export const runLeases = async (config: ConsumeConfig, options: LeasesOptions): Promise<number> => {
  const checkpoints = config.checkpoints;
  if (checkpoints.type !== 'dynamodb') {
    throw new ConfigError(
      'checkpoints.type',
      'is "file": there is no lease table; use a config with checkpoints.type "dynamodb"',
    );
  }
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const client = createDynamoClient({
    region: checkpoints.region ?? config.stream.region,
    endpoint: checkpoints.endpoint,
  });
  try {
    const table = new LeaseTable({
      client,
      tableName: checkpoints.table ?? `shardline-leases-${config.stream.name}`,
    });
    const now = Date.now();
    const rows = (await table.list()).map((lease) => describeLease(lease, now));
    if (options.format === 'json') {
      // NDJSON, as every --format json of the CLI (query, named queries, warehouse, endpoints).
      for (const row of rows) write(`${JSON.stringify(row)}\n`);
    } else {
      write(formatTable(rows));
    }
    return 0;
  } finally {
    client.destroy();
  }
};

interface LeaseRow {
  shard: string;
  owner: string;
  counter: number;
  checkpoint: string;
  lagMs: number | null;
  renewedSecondsAgo: number | null;
  parents: string;
  pendingBatch: string;
}

function describeLease(lease: Lease, now: number): LeaseRow {
  const cp = lease.checkpoint;
  let checkpoint = '-';
  if (isShardEnd(cp)) checkpoint = 'SHARD_END';
  else if (cp)
    checkpoint =
      cp.subSequenceNumber === undefined ? cp.sequenceNumber : `${cp.sequenceNumber}/${cp.subSequenceNumber}`;
  return {
    shard: lease.leaseKey,
    owner: lease.leaseOwner ?? (isShardEnd(cp) ? '(finished)' : '(none)'),
    counter: lease.leaseCounter,
    checkpoint,
    lagMs: lease.leaseOwner === undefined ? null : (lease.millisBehindLatest ?? null),
    renewedSecondsAgo: lease.renewedAt === undefined ? null : Math.round((now - lease.renewedAt) / 100) / 10,
    parents: lease.parentShardIds.join(',') || '-',
    pendingBatch: lease.pendingBatch
      ? `${lease.pendingBatch.firstSequence}..${lease.pendingBatch.lastSequence}`
      : '-',
  };
}

function formatTable(rows: readonly LeaseRow[]): string {
  const header = [
    'shard',
    'owner',
    'counter',
    'checkpoint',
    'lag ms',
    'renewed s ago',
    'parents',
    'pending batch',
  ];
  const cells = rows.map((r) => [
    r.shard,
    r.owner,
    String(r.counter),
    r.checkpoint,
    r.lagMs === null ? '-' : String(r.lagMs),
    r.renewedSecondsAgo === null ? '-' : String(r.renewedSecondsAgo),
    r.parents,
    r.pendingBatch,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) =>
    `${c
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()}\n`;
  return [line(header), ...cells.map(line), `${rows.length} leases\n`].join('');
}
