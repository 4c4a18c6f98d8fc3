import {
  type AttributeValue,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { BatchRange } from '../../pipeline/types.ts';
import { isShardEnd, SHARD_END, type StoredCheckpoint } from '../checkpoint-store.ts';
import { type ConsumerClock, systemClock } from '../consumer-clock.ts';
import { LeaseLostError, LeaseTableError } from '../errors.ts';
import { ExponentialBackoff } from '../exponential-backoff.ts';
import type { Lease } from './lease.ts';

export interface LeaseTableOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly clock?: ConsumerClock;
  readonly random?: () => number;
  /** Attempts per call on throttling and server errors, with jittered exponential back-off. */
  readonly maxAttempts?: number;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
}

/** Who holds a lease, as its holder knows it: every write it makes is conditional on both. */
export interface LeaseHold {
  readonly owner: string;
  readonly counter: number;
}

const RETRIABLE = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'LimitExceededException',
  'TransactionConflictException',
]);
const THROTTLED = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);

const OWNED = 'leaseOwner = :owner AND leaseCounter = :counter';

/**
 * The DynamoDB lease table: one item per shard, keyed by shard id (`leaseKey`). Created on first
 * use (on-demand capacity). Throttling and server errors are retried with full-jitter back-off;
 * a failed condition on an owned lease becomes a LeaseLostError.
 */
export class LeaseTable {
  readonly tableName: string;
  /** Calls DynamoDB throttled; each was retried after a back-off. */
  throttled = 0;
  readonly #client: DynamoDBClient;
  readonly #clock: ConsumerClock;
  readonly #options: LeaseTableOptions;

  constructor(options: LeaseTableOptions) {
    this.tableName = options.tableName;
    this.#client = options.client;
    this.#clock = options.clock ?? systemClock;
    this.#options = options;
  }

  /** Creates the table unless it exists, then waits until it is ACTIVE. */
  async ensureTable(timeoutMs = 60_000): Promise<void> {
    const deadline = this.#clock.now() + timeoutMs;
    for (;;) {
      let status: string | undefined;
      try {
        const { Table } = await this.#call('describe the lease table', () =>
          this.#client.send(new DescribeTableCommand({ TableName: this.tableName })),
        );
        status = Table?.TableStatus;
      } catch (error) {
        if (!isNamed((error as LeaseTableError).cause ?? error, 'ResourceNotFoundException')) throw error;
        await this.#call('create the lease table', () =>
          this.#client.send(
            new CreateTableCommand({
              TableName: this.tableName,
              KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
              AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
              BillingMode: 'PAY_PER_REQUEST',
            }),
          ),
        ).catch((createError: LeaseTableError) => {
          // Another worker created it first.
          if (!isNamed(createError.cause, 'ResourceInUseException')) throw createError;
        });
      }
      if (status === 'ACTIVE') return;
      if (this.#clock.now() > deadline) {
        throw new LeaseTableError(
          `lease table "${this.tableName}" is ${status ?? 'missing'} after ${timeoutMs} ms; check DynamoDB and permissions (dynamodb:CreateTable, DescribeTable)`,
        );
      }
      await this.#clock.sleep(200);
    }
  }

  async list(): Promise<Lease[]> {
    const leases: Lease[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.#call('scan the lease table', () =>
        this.#client.send(
          new ScanCommand({ TableName: this.tableName, ConsistentRead: true, ExclusiveStartKey: start }),
        ),
      );
      for (const item of page.Items ?? []) leases.push(fromItem(item));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return leases.sort((a, b) => (a.leaseKey < b.leaseKey ? -1 : a.leaseKey > b.leaseKey ? 1 : 0));
  }

  async get(shardId: string): Promise<Lease | undefined> {
    const { Item } = await this.#call('read a lease', () =>
      this.#client.send(
        new GetItemCommand({ TableName: this.tableName, Key: key(shardId), ConsistentRead: true }),
      ),
    );
    return Item ? fromItem(Item) : undefined;
  }

  /** A lease for a newly found shard, unowned. Resolves false when it already exists. */
  async create(shardId: string, parentShardIds: readonly string[]): Promise<boolean> {
    const item: Record<string, AttributeValue> = {
      ...key(shardId),
      leaseCounter: { N: '0' },
      ownerSwitchesSinceCheckpoint: { N: '0' },
    };
    if (parentShardIds.length > 0) item.parentShardIds = { SS: [...parentShardIds] };
    return this.#conditional(() =>
      this.#client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(leaseKey)',
        }),
      ),
    );
  }

  /**
   * Takes `lease` for `owner` if nobody changed it since it was read (same counter and owner).
   * Resolves the lease as now stored, or undefined when another worker got there first.
   */
  async take(lease: Lease, owner: string): Promise<Lease | undefined> {
    const values: Record<string, AttributeValue> = {
      ':me': { S: owner },
      ':seen': { N: String(lease.leaseCounter) },
      ':next': { N: String(lease.leaseCounter + 1) },
      ':now': { N: String(Date.now()) },
      ':switch': { N: lease.leaseOwner === owner ? '0' : '1' },
      ':zero': { N: '0' },
    };
    let condition = 'leaseCounter = :seen AND attribute_not_exists(leaseOwner)';
    if (lease.leaseOwner !== undefined) {
      condition = 'leaseCounter = :seen AND leaseOwner = :prev';
      values[':prev'] = { S: lease.leaseOwner };
    }
    let taken: Lease | undefined;
    const ok = await this.#conditional(async () => {
      const { Attributes } = await this.#client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(lease.leaseKey),
          UpdateExpression:
            'SET leaseOwner = :me, leaseCounter = :next, renewedAt = :now, ownerSwitchesSinceCheckpoint = if_not_exists(ownerSwitchesSinceCheckpoint, :zero) + :switch',
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      if (Attributes) taken = fromItem(Attributes);
    });
    return ok ? taken : undefined;
  }

  /** Bumps the counter: other workers see the lease alive. Rejects with LeaseLostError if it moved. */
  renew(shardId: string, hold: LeaseHold, millisBehindLatest: number | undefined): Promise<void> {
    const values: Record<string, AttributeValue> = {
      ':next': { N: String(hold.counter + 1) },
      ':now': { N: String(Date.now()) },
    };
    let update = 'SET leaseCounter = :next, renewedAt = :now';
    if (millisBehindLatest !== undefined) {
      update += ', millisBehindLatest = :lag';
      values[':lag'] = { N: String(millisBehindLatest) };
    }
    return this.#owned(shardId, hold, 'renew', update, values);
  }

  /** Records the range of a batch about to land. */
  announce(shardId: string, hold: LeaseHold, range: BatchRange): Promise<void> {
    return this.#owned(
      shardId,
      hold,
      'announce a batch on',
      'SET pendingFirstSequence = :f, pendingLastSequence = :l',
      {
        ':f': { S: range.firstSequence },
        ':l': { S: range.lastSequence },
      },
    );
  }

  /**
   * Stores a checkpoint; `landed` is the announced batch it completes, if any. SHARD_END also
   * gives the lease up: nobody needs to hold a finished shard.
   */
  checkpoint(
    shardId: string,
    hold: LeaseHold,
    checkpoint: StoredCheckpoint,
    landed: BatchRange | undefined,
  ): Promise<void> {
    const values: Record<string, AttributeValue> = {
      ':cp': { S: checkpoint.sequenceNumber },
      ':zero': { N: '0' },
    };
    const set = ['checkpoint = :cp', 'ownerSwitchesSinceCheckpoint = :zero'];
    const remove = ['pendingFirstSequence', 'pendingLastSequence'];
    const sub = isShardEnd(checkpoint) ? undefined : checkpoint.subSequenceNumber;
    if (sub === undefined) remove.push('checkpointSubSequenceNumber');
    else {
      set.push('checkpointSubSequenceNumber = :sub');
      values[':sub'] = { N: String(sub) };
    }
    if (landed) {
      set.push('landedFirstSequence = :lf', 'landedLastSequence = :ll');
      values[':lf'] = { S: landed.firstSequence };
      values[':ll'] = { S: landed.lastSequence };
    }
    if (isShardEnd(checkpoint)) {
      set.push('leaseCounter = :next');
      values[':next'] = { N: String(hold.counter + 1) };
      remove.push('leaseOwner');
    }
    return this.#owned(
      shardId,
      hold,
      'checkpoint',
      `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`,
      values,
    );
  }

  /** Gives the lease up (graceful shutdown): another worker may take it at once. */
  release(shardId: string, hold: LeaseHold): Promise<void> {
    return this.#owned(shardId, hold, 'release', 'SET leaseCounter = :next REMOVE leaseOwner', {
      ':next': { N: String(hold.counter + 1) },
    });
  }

  async #owned(
    shardId: string,
    hold: LeaseHold,
    what: string,
    update: string,
    values: Record<string, AttributeValue>,
  ): Promise<void> {
    const ok = await this.#conditional(() =>
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(shardId),
          UpdateExpression: update,
          ConditionExpression: OWNED,
          ExpressionAttributeValues: {
            ...values,
            ':owner': { S: hold.owner },
            ':counter': { N: String(hold.counter) },
          },
        }),
      ),
    );
    if (!ok) {
      throw new LeaseLostError(
        shardId,
        `cannot ${what} the lease of ${shardId}: ${hold.owner} no longer holds it at counter ${hold.counter}`,
      );
    }
  }

  /** Runs a conditional write; resolves false when its condition failed. */
  async #conditional(send: () => Promise<unknown>): Promise<boolean> {
    try {
      await this.#call('write a lease', send);
      return true;
    } catch (error) {
      if ((error as LeaseTableError).cause instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async #call<T>(what: string, send: () => Promise<T>): Promise<T> {
    const backoff = new ExponentialBackoff({
      baseMs: this.#options.backoffBaseMs ?? 50,
      maxMs: this.#options.backoffMaxMs ?? 2_000,
      random: this.#options.random,
    });
    const attempts = this.#options.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        const retriable = isRetriable(error);
        if (THROTTLED.has((error as { name?: string }).name ?? '')) this.throttled++;
        if (!retriable || attempt >= attempts) {
          throw new LeaseTableError(
            `could not ${what} in DynamoDB table "${this.tableName}": ${describe(error)}${retriable ? ' (gave up after retries; will try again later)' : '; check the table, region, endpoint and permissions'}`,
            { cause: error, retriable },
          );
        }
        await this.#clock.sleep(backoff.next());
      }
    }
  }
}

function key(shardId: string): Record<string, AttributeValue> {
  return { leaseKey: { S: shardId } };
}

function fromItem(item: Record<string, AttributeValue>): Lease {
  const s = (name: string) => item[name]?.S;
  const n = (name: string) => (item[name]?.N === undefined ? undefined : Number(item[name]?.N));
  const cp = s('checkpoint');
  const sub = n('checkpointSubSequenceNumber');
  let checkpoint: StoredCheckpoint | undefined;
  if (cp === SHARD_END.sequenceNumber) checkpoint = SHARD_END;
  else if (cp !== undefined)
    checkpoint = sub === undefined ? { sequenceNumber: cp } : { sequenceNumber: cp, subSequenceNumber: sub };
  const range = (first: string, last: string): BatchRange | undefined => {
    const f = s(first);
    const l = s(last);
    return f !== undefined && l !== undefined ? { firstSequence: f, lastSequence: l } : undefined;
  };
  return {
    leaseKey: s('leaseKey') ?? '',
    leaseOwner: s('leaseOwner'),
    leaseCounter: n('leaseCounter') ?? 0,
    checkpoint,
    parentShardIds: item.parentShardIds?.SS ?? [],
    ownerSwitchesSinceCheckpoint: n('ownerSwitchesSinceCheckpoint') ?? 0,
    pendingBatch: range('pendingFirstSequence', 'pendingLastSequence'),
    landedBatch: range('landedFirstSequence', 'landedLastSequence'),
    renewedAt: n('renewedAt'),
    millisBehindLatest: n('millisBehindLatest'),
  };
}

function isNamed(error: unknown, name: string): boolean {
  return (error as { name?: string } | undefined)?.name === name;
}

/** Throttling, server errors and network failures are worth another attempt; the rest are not. */
function isRetriable(error: unknown): boolean {
  if (error instanceof ConditionalCheckFailedException) return false;
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number }; $fault?: string };
  if (RETRIABLE.has(e.name ?? '')) return true;
  if (e.$fault === 'server') return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500;
  // No HTTP answer at all: connection refused or reset, timeout.
  return true;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
