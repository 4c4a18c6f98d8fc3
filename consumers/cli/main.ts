import { Command, InvalidArgumentError, Option } from 'commander';
import { ShardlineError } from '../../pipeline/errors.ts';
import { createLogger } from '../../pipeline/observability/logger.ts';
import { loadConsumeConfig } from './consume-config.ts';
import { runDev } from './dev-command.ts';
import type { OutputFormat } from './query-command.ts';
import { runQuery } from './query-command.ts';
import { runPipeline } from './run-pipeline.ts';

const int = (name: string, min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
  return n;
};

const program = new Command('shardline')
  .description('API request logs from Kinesis to Parquet and a queryable warehouse, within seconds.')
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
  .option('--demo-events <n>', 'send this many demo events, then stop producing', int('--demo-events', 0))
  .option('--demo-rate <n>', 'events per second of continuous demo traffic', int('--demo-rate', 1), 200)
  .option('--no-demo', 'send no demo traffic; wait for your own producers (Fluent Bit)')
  .option(
    '--exit',
    'exit once every event sent is queryable, printing a JSON summary as the last line (starts from empty state)',
  )
  .option('--fresh', 'delete the stream, checkpoints, lake and warehouse before starting')
  .option('--timeout <seconds>', 'with --exit: give up after this long', int('--timeout', 1), 600)
  .action(async (o) => {
    process.exitCode = await runDev({
      dir: o.dir,
      stream: o.stream,
      shards: o.shards,
      httpPort: o.httpPort,
      httpsPort: o.httpsPort,
      demo: o.demo,
      demoEvents: o.demoEvents,
      demoRate: o.demoRate,
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
  .requiredOption('-c, --config <file>', 'JSON config file (see README: "Configuration")')
  .action(async (o) => {
    const config = loadConsumeConfig(o.config);
    const logger = createLogger({ component: 'consume', stream: config.stream.name });
    const running = await runPipeline(config, { logger });
    logger.info('consuming', {
      endpoint: config.stream.endpoint ?? 'aws',
      lake: running.pipeline.store.describe(),
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
  .command('query')
  .description('Run SQL against the embedded DuckDB warehouse (table `requests`).')
  .argument(
    '<sql>',
    'the SQL to run, e.g. "select endpoint, count(*) from requests group by 1 order by 2 desc limit 5"',
  )
  .option('--db <file>', 'warehouse file', '.shardline/warehouse.duckdb')
  .addOption(
    new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'),
  )
  .action(async (sql: string, o) => {
    process.exitCode = await runQuery(sql, { db: o.db, format: o.format as OutputFormat });
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof ShardlineError) {
    process.stderr.write(`shardline: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    throw e;
  }
}
