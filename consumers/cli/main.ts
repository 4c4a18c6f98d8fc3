import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, ShardlineError } from '../../pipeline/errors.ts';
import { createLogger } from '../../pipeline/observability/logger.ts';
import { runCompact } from './compact-command.ts';
import { CONFIG_ENV, type ConsumeConfig, consumeConfigFromEnv, loadConsumeConfig } from './consume-config.ts';
import { runDeadLettersList, runDeadLettersRedrive, runDeadLettersShow } from './dead-letters-command.ts';
import type { DemoFormat } from './dev-command.ts';
import {
  runEndpointsExport,
  runEndpointsImport,
  runEndpointsList,
  runEndpointsRetemplate,
} from './endpoints-command.ts';
import { QueryError } from './errors.ts';
import { runLeases } from './leases-command.ts';
import { parseParamPairs, runNamedQuery, type WarehouseKind } from './named-query-command.ts';
import type { OutputFormat } from './query-command.ts';
import { runQuery } from './query-command.ts';
import { runReplay } from './replay-command.ts';
import { runPipeline } from './run-pipeline.ts';
import { runUi } from './ui-command.ts';
import { VERSION } from './version.ts';
import { runWarehouseCommand, type WarehouseAction } from './warehouse-command.ts';

const int = (name: string, min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
  return n;
};

/** `--config <file>`, else the JSON in `$SHARDLINE_CONFIG`; either is checked the same way. */
const consumeConfigOf = (file: string | undefined): ConsumeConfig => {
  if (file !== undefined) return loadConsumeConfig(file);
  const fromEnv = consumeConfigFromEnv();
  if (fromEnv === undefined) {
    throw new ConfigError(
      '--config',
      `give a JSON config file with --config <file>, or the JSON itself in $${CONFIG_ENV}`,
    );
  }
  return fromEnv;
};

const program = new Command('shardline')
  .description(
    'API request logs from Kinesis to Parquet and a queryable warehouse, within seconds. Logs: JSON lines on stderr, level from $SHARDLINE_LOG_LEVEL (debug|info|warn|error|silent; dev defaults to warn, others to info).',
  )
  .version(VERSION, '-V, --version', 'print the version')
  .showHelpAfterError();

program
  .command('dev')
  .description(
    'Run the whole pipeline on this machine: local Kinesis (HTTP + HTTPS for Fluent Bit), consumer, Parquet lake, DuckDB warehouse and demo traffic. Runs until Ctrl-C.',
  )
  .option(
    '--dir <dir>',
    'state directory (stream, checkpoints, lake, warehouse, TLS certificate)',
    '.shardline',
  )
  .option('--stream <name>', 'stream name', 'shardline-demo')
  .option('--shards <n>', 'shards of the stream when it is created', int('--shards', 1), 4)
  .option(
    '--http-port <port>',
    'Kinesis API port for SDK clients (0 = any free port)',
    int('--http-port', 0),
    4567,
  )
  .option(
    '--https-port <port>',
    'Kinesis API port over TLS for Fluent Bit (0 = any free port)',
    int('--https-port', 0),
    4443,
  )
  .option(
    '--metrics-port <port>',
    'serve Prometheus /metrics and /health here, as `shardline consume` does (0 = any free port)',
    int('--metrics-port', 0),
    9464,
  )
  .option(
    '--dynamodb-port <port>',
    'local DynamoDB (leases) port, fixed so a `leases`/`consume` config pointed at it survives restarts (0 = any free port)',
    int('--dynamodb-port', 0),
    8000,
  )
  .option('--ui-port <port>', 'dashboard page port (0 = any free port)', int('--ui-port', 0), 8484)
  .option('--no-ui', 'serve no dashboard page')
  .option('--demo-events <n>', 'send this many demo events, then stop producing', int('--demo-events', 0))
  .option('--demo-rate <n>', 'events per second of continuous demo traffic', int('--demo-rate', 1), 200)
  .addOption(
    new Option(
      '--demo-format <format>',
      'how demo lines become Kinesis records: sidecar = as the sidecar configs in fluent-bit/ send them (simple_aggregation, gzip: many lines a record); lines = one uncompressed line a record (Fluent Bit output defaults)',
    )
      // Listed here, not imported: the dev stack's module is loaded only when `dev` runs (below).
      .choices(['sidecar', 'lines'])
      .default('sidecar'),
  )
  .option('--no-demo', 'send no demo traffic; wait for your own producers (Fluent Bit)')
  .option(
    '--exit',
    'exit once every event sent is queryable, printing a JSON summary as the last line; runs in a new scratch directory (printed, kept) and on free ports, leaving --dir alone (with --fresh: in --dir, emptied first)',
  )
  .option('--fresh', 'delete the stream, checkpoints, lake and warehouse of --dir before starting')
  .option('--timeout <seconds>', 'with --exit: give up after this long', int('--timeout', 1), 600)
  .action(async (o, command: Command) => {
    // A scratch --exit run must not collide with an `npm start` running beside it: free ports,
    // unless given.
    const scratch = Boolean(o.exit) && !o.fresh;
    const port = (name: string): number =>
      scratch && command.getOptionValueSource(name) === 'default' ? 0 : (o[name] as number);
    // Loaded on use: the dev stack pulls in the demo producer (fluent-bit/demo/) and the local
    // stand-ins, which a production image running `consume` does not ship.
    const { runDev } = await import('./dev-command.ts');
    process.exitCode = await runDev({
      dir: o.dir,
      stream: o.stream,
      shards: o.shards,
      httpPort: port('httpPort'),
      httpsPort: port('httpsPort'),
      metricsPort: port('metricsPort'),
      dynamodbPort: port('dynamodbPort'),
      uiPort: o.ui === false ? undefined : port('uiPort'),
      demo: o.demo,
      demoEvents: o.demoEvents,
      demoRate: o.demoRate,
      demoFormat: o.demoFormat as DemoFormat,
      exit: Boolean(o.exit),
      fresh: Boolean(o.fresh),
      timeoutSeconds: o.timeout,
    });
  });

program
  .command('consume')
  .description(
    'Consume a Kinesis stream (local or AWS) into Parquet, as configured in a JSON file. Runs until SIGINT/SIGTERM.',
  )
  .option(
    '-c, --config <file>',
    `JSON config file (see README: "Configuration"); without it, the JSON itself from $${CONFIG_ENV}`,
  )
  .option(
    '--worker-id <id>',
    'this worker in the lease table (checkpoints.type "dynamodb"); default <host>-<pid>',
  )
  .option(
    '--metrics-port <port>',
    'serve /metrics and /health on this port (0 = any free port)',
    int('--metrics-port', 0),
  )
  .action(async (o) => {
    const loaded = consumeConfigOf(o.config);
    const config =
      o.metricsPort === undefined
        ? loaded
        : { ...loaded, metrics: { ...loaded.metrics, port: o.metricsPort } };
    const logger = createLogger({ component: 'consume', stream: config.stream.name });
    const running = await runPipeline(config, { logger, workerId: o.workerId });
    logger.info('consuming', {
      endpoint: config.stream.endpoint ?? 'aws',
      lake: running.pipeline.store.describe(),
      worker: running.workerId,
      metrics: running.metricsUrl,
    });
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    logger.info('stopping: landing buffered batches and storing checkpoints');
    await running.stop();
    logger.info('stopped', { ...running.pipeline.counters });
  });

program
  .command('leases')
  .description(
    'Print the lease table of a stream consumed with checkpoints.type "dynamodb": owner, checkpoint, lag.',
  )
  .option('-c, --config <file>', `the JSON config file the workers use; without it, $${CONFIG_ENV}`)
  .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
  .action(async (o) => {
    process.exitCode = await runLeases(consumeConfigOf(o.config), { format: o.format as 'table' | 'json' });
  });

program
  .command('query')
  .description(
    'Run SQL, or a named dashboard query (schemas/queries/), against the embedded DuckDB warehouse (table `requests`) or SingleStore. Never holds up a running loader.',
  )
  .argument(
    '[sql]',
    'the SQL to run, e.g. "select endpoint, count(*) from requests group by 1 order by 2 desc limit 5"',
  )
  .option('--db <file>', 'warehouse file', '.shardline/warehouse.duckdb')
  .addOption(
    new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'),
  )
  .option('--named <query>', 'run a named query of schemas/queries/ instead of SQL, e.g. latency_by_endpoint')
  .option('--project <id>', 'named query: project id')
  .option(
    '--from <time>',
    'named query: start of the range: ISO 8601 (UTC unless a zone is given), "now", or a duration ago: -1h, 30m, 2d (default: an hour before --to)',
  )
  .option('--to <time>', 'named query: end of the range, exclusive, same forms as --from (default: now)')
  .option(
    '--limit <n>',
    "named query: rows to return (default: the query's own); refused by queries without a limit",
  )
  .option(
    '--param <name=value>',
    'named query: any other parameter it declares (repeatable); one it does not declare is refused',
    (v: string, acc: string[]) => [...acc, v],
    [] as string[],
  )
  .addOption(
    new Option(
      '--warehouse <kind>',
      "where to run it: the embedded DuckDB (its readers' snapshot) or SingleStore",
    )
      .choices(['embedded', 'singlestore'])
      .default('embedded'),
  )
  .option(
    '--url <url>',
    'SingleStore URL: singlestore://user:pass@host:3306/db (MySQL protocol) or https://user:pass@host/db (Data API) (default: $SINGLESTORE_URL)',
  )
  .action(async (sql: string | undefined, o) => {
    const target = {
      warehouse: o.warehouse as WarehouseKind,
      db: o.db,
      url: o.url ?? process.env.SINGLESTORE_URL,
      format: o.format as OutputFormat,
    };
    if (o.named !== undefined) {
      if (sql !== undefined) throw new ConfigError('--named', 'give either SQL or --named <query>, not both');
      const flags = { project: o.project, from: o.from, to: o.to, limit: o.limit };
      const defined = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
      const pairs = parseParamPairs(o.param);
      for (const name of Object.keys(defined)) {
        if (name in pairs)
          throw new ConfigError(`--${name}`, `given both as --${name} and as --param ${name}=…`);
      }
      process.exitCode = await runNamedQuery({ name: o.named, ...target, params: { ...pairs, ...defined } });
      return;
    }
    for (const flag of ['project', 'from', 'to', 'limit'] as const) {
      if (o[flag] !== undefined)
        throw new ConfigError(`--${flag}`, 'only named queries take it (--named <query>)');
    }
    if (o.param.length > 0) throw new ConfigError('--param', 'only named queries take it (--named <query>)');
    if (sql === undefined) throw new ShardlineError('query: give the SQL to run, or --named <query>');
    process.exitCode = await runQuery(sql, target);
  });

program
  .command('ui')
  .description(
    'Serve the dashboard page (charts of the named queries per project and time range) over the embedded warehouse or SingleStore. `shardline dev` serves it too, with the live pipeline state.',
  )
  .option('--db <file>', 'embedded warehouse file (read through its snapshot)', '.shardline/warehouse.duckdb')
  .addOption(
    new Option('--warehouse <kind>', 'where the queries run')
      .choices(['embedded', 'singlestore'])
      .default('embedded'),
  )
  .option(
    '--url <url>',
    'SingleStore URL: singlestore://user:pass@host:3306/db (MySQL protocol) or https://user:pass@host/db (Data API) (default: $SINGLESTORE_URL)',
  )
  .option('--port <port>', 'port (0 = any free port)', int('--port', 0), 8484)
  .option('--host <host>', 'interface to listen on', '127.0.0.1')
  .action(async (o) => {
    process.exitCode = await runUi({
      warehouse: o.warehouse as WarehouseKind,
      db: o.db,
      url: o.url ?? process.env.SINGLESTORE_URL,
      port: o.port,
      host: o.host,
    });
  });

program
  .command('warehouse')
  .description(
    'Manage the SingleStore warehouse: init (migrations + S3 pipeline, idempotent), status, pause, resume, errors.',
  )
  .addArgument(
    new Argument('<action>', 'what to do').choices(['init', 'status', 'pause', 'resume', 'errors']),
  )
  .option(
    '--url <url>',
    'SingleStore URL: singlestore://user:pass@host:3306/db (MySQL protocol) or https://user:pass@host/db (Data API) (default: $SINGLESTORE_URL)',
  )
  .option(
    '--config <file>',
    'init: JSON pipeline config (bucket, prefix, region, credentials); see schemas/README.md',
  )
  .option('--pipeline <name>', 'pipeline name', 'shardline_requests')
  .option('--limit <n>', 'errors: how many', int('--limit', 1), 20)
  .addOption(
    new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'),
  )
  .action(async (action: string, o) => {
    process.exitCode = await runWarehouseCommand(action as WarehouseAction, {
      url: o.url ?? process.env.SINGLESTORE_URL,
      config: o.config,
      pipeline: o.pipeline,
      format: o.format as OutputFormat,
      limit: o.limit,
    });
  });

const endpoints = program
  .command('endpoints')
  .description(
    "Each project's endpoints: learned from traffic, declared from OpenAPI; list, export as OpenAPI 3.1, re-template stored rows.",
  );
const lakeOptions = (c: Command): Command =>
  c
    .option('--dir <dir>', '`shardline dev` state directory (its lake)', '.shardline')
    .option('-c, --config <file>', 'a `shardline consume` config: use its lake (S3 or a directory)');
lakeOptions(
  endpoints
    .command('import')
    .description('Make the routes of an OpenAPI document (JSON or YAML) exact templates for a project.')
    .requiredOption('--project <id>', 'project id')
    .argument('<file>', 'openapi.json or openapi.yaml'),
).action(async (file: string, o) => {
  process.exitCode = await runEndpointsImport(o.project, file, { dir: o.dir, config: o.config });
});
lakeOptions(
  endpoints
    .command('list')
    .description("A project's endpoints with request counts, methods, status codes and query parameters.")
    .requiredOption('--project <id>', 'project id')
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'),
    ),
).action(async (o) => {
  process.exitCode = await runEndpointsList(o.project, { dir: o.dir, config: o.config, format: o.format });
});
lakeOptions(
  endpoints
    .command('export')
    .description("A project's endpoints as an OpenAPI 3.1 document.")
    .requiredOption('--project <id>', 'project id')
    .option('-o, --out <file>', 'write here instead of stdout'),
).action(async (o) => {
  process.exitCode = await runEndpointsExport(o.project, { dir: o.dir, config: o.config, out: o.out });
});
lakeOptions(
  endpoints
    .command('retemplate')
    .description(
      "Rewrite stored rows' endpoint from their path with the current routes (embedded warehouse).",
    )
    .option('--project <id>', 'only this project')
    .option('--db <file>', 'warehouse file', '.shardline/warehouse.duckdb'),
).action(async (o) => {
  process.exitCode = await runEndpointsRetemplate({
    dir: o.dir,
    config: o.config,
    db: o.db,
    project: o.project,
  });
});

// Data engineers: replay, dead letters, compaction (pipeline/land/README.md).
const dataLake = (c: Command): Command =>
  c
    .option('--dir <dir>', '`shardline dev` state directory (its lake and warehouse)', '.shardline')
    .option(
      '-c, --config <file>',
      'a `shardline consume` config: its stream, lake, pipeline settings, warehouse',
    );
dataLake(
  program
    .command('replay')
    .description(
      "Re-run decode → validate → enrich → Parquet with today's code over records that arrived in [--from, --to), from the stream or the raw archive; replayed rows replace the rows they re-derive when they differ.",
    )
    .requiredOption('--from <time>', 'start of the arrival range, ISO 8601 (2026-11-22T10:00:00Z)')
    .option('--to <time>', 'end of the arrival range, exclusive (default: now)')
    .addOption(
      new Option('--source <source>', 'where records come from')
        .choices(['stream', 'archive'])
        .default('stream'),
    )
    .option(
      '--generation <n>',
      "re-run a stopped replay under its generation (default: this run's start, epoch ms)",
      int('--generation', 1),
    )
    .option(
      '--poll-interval <ms>',
      'stream: least time between two GetRecords calls on a shard (Kinesis allows 5/s per shard, shared with the live workers)',
      int('--poll-interval', 200),
      1_000,
    )
    .option('--dry-run', 'count what would land; write nothing')
    .option(
      '--skip-damaged',
      'archive: replay the other objects when one cannot be read (listed as damagedObjects in the summary)',
    )
    .option('--no-load', 'do not load the replayed files into the embedded warehouse'),
).action(async (o) => {
  process.exitCode = await runReplay({
    skipDamaged: Boolean(o.skipDamaged),
    pollIntervalMs: o.pollInterval,
    dir: o.dir,
    config: o.config,
    source: o.source,
    from: o.from,
    to: o.to,
    generation: o.generation,
    dryRun: Boolean(o.dryRun),
    load: o.load !== false,
  });
});
const deadLetters = program
  .command('dead-letters')
  .description(
    "Logs that could not become rows: count them, look at one, re-drive them through today's pipeline.",
  );
const letterFilters = (c: Command): Command =>
  dataLake(c)
    .option('--reason <reason>', 'only this reason, e.g. schema_violation')
    .option('--stage <stage>', 'only this stage: decode, validate, enrich, encode')
    .option('--shard <id>', 'only this shard')
    .option('--from <time>', 'arrived at or after, ISO 8601')
    .option('--to <time>', 'arrived before, ISO 8601');
letterFilters(
  deadLetters
    .command('list')
    .description(
      'Counts by reason, stage, shard and hour of arrival; --each: one line per letter with its ref.',
    )
    .option('--each', 'one line per letter, with the ref `show` and `redrive --ref` take')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table')),
).action(async (o) => {
  process.exitCode = await runDeadLettersList({ ...o, each: Boolean(o.each) });
});
dataLake(
  deadLetters
    .command('show')
    .description(
      'One dead letter: where it came from, why, and its original bytes (decoded when text, control characters escaped; they may hold secrets: --redact).',
    )
    .argument('<ref>', '<dead-letter file key>#<index>, as `dead-letters list --each` prints it')
    .option(
      '--redact',
      'scrub secrets from the bytes before printing (as deadLetters.originalBytes "redact" does)',
    ),
).action(async (ref: string, o) => {
  process.exitCode = await runDeadLettersShow(ref, {
    dir: o.dir,
    config: o.config,
    redact: Boolean(o.redact),
  });
});
letterFilters(
  deadLetters
    .command('redrive')
    .description(
      "The selected letters through today's pipeline: those that pass land (once, however often re-driven), the rest keep their new reason.",
    )
    .option('--ref <ref>', 'only this letter')
    .option('--dry-run', 'say what would happen; write nothing')
    .option('--no-load', 'do not load the landed rows into the embedded warehouse'),
).action(async (o) => {
  process.exitCode = await runDeadLettersRedrive({ ...o, dryRun: Boolean(o.dryRun), load: o.load !== false });
});
dataLake(
  program
    .command('compact')
    .description(
      'Merge closed hours of small Parquet files into few large ones (sorted, same schema); no reader of the documented requests_latest view or of a warehouse sees a row twice or misses one (raw readers of requests/ may see both until the merged files are deleted).',
    )
    .option(
      '--closed-for <minutes>',
      'compact an hour once it ended this long ago',
      int('--closed-for', 0),
      60,
    )
    .option('--max-rows <n>', 'rows per compacted file', int('--max-rows', 1), 1_000_000)
    .option('--hour <prefix>', 'only this hour, e.g. requests/dt=2026-11-22/hr=10/')
    .option('--all', 'every hour, open ones too (a lake nothing lands in any more, e.g. after `dev --exit`)')
    .option(
      '--delete-after <minutes>',
      "delete merged files this long past the hour's close (default 60; 0 with --all); ignored when a SingleStore pipeline is checked",
      int('--delete-after', 0),
    )
    .option(
      '--singlestore-pipeline <name>',
      'delete only merged files this pipeline shows as Loaded (default shardline_requests when the config has no embedded warehouse and $SINGLESTORE_URL is set)',
    )
    .option('--url <url>', 'SingleStore URL (default: $SINGLESTORE_URL)')
    .option('--dry-run', 'say what would be merged; write and delete nothing')
    .option('--no-load', 'do not update the embedded warehouse'),
).action(async (o) => {
  process.exitCode = await runCompact({
    deleteAfterMinutes: o.deleteAfter ?? (o.all ? 0 : 60),
    singlestorePipeline: o.singlestorePipeline,
    singlestoreUrl: o.url,
    dir: o.dir,
    config: o.config,
    closedForMinutes: o.all ? Number.NEGATIVE_INFINITY : o.closedFor,
    maxRowsPerFile: o.maxRows,
    hour: o.hour,
    dryRun: Boolean(o.dryRun),
    load: o.load !== false,
  });
});

try {
  await program.parseAsync(process.argv);
} catch (e) {
  // What went wrong and what to do, never Node's internals; the stack only when asked for.
  const debug = process.env.SHARDLINE_LOG_LEVEL === 'debug';
  if (e instanceof QueryError) {
    process.stderr.write(`shardline: the query failed:\n${e.message}\n`);
    process.exitCode = 1;
  } else if (e instanceof ShardlineError) {
    process.stderr.write(`shardline: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(
      `shardline: unexpected error: ${message}\n${debug && e instanceof Error ? `${e.stack}\n` : '(SHARDLINE_LOG_LEVEL=debug prints the stack)\n'}`,
    );
    process.exitCode = 70;
  }
  if (debug && e instanceof ShardlineError) process.stderr.write(`${e.stack}\n`);
}
