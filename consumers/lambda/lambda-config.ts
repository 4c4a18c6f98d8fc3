import { PipelineConfig } from '../../pipeline/config.ts';
import { configJsonFromEnv, parseConfig } from '../../pipeline/config-errors.ts';
import { ConfigError } from '../../pipeline/errors.ts';

/** The environment variable holding the Lambda consumer's pipeline config, as JSON. */
export const CONFIG_ENV = 'SHARDLINE_CONFIG';

/**
 * The pipeline config of the Lambda consumer: the `shardline consume` config without `stream`,
 * `checkpoints`, `metrics` and `warehouse` (Lambda owns the stream and the checkpoints), from
 * `$SHARDLINE_CONFIG`. Parsed once per cold start; an error names the field to fix.
 *
 * @example
 * {"lake":{"type":"s3","bucket":"acme-api-logs","prefix":"shardline/","region":"eu-west-1"}}
 */
export const lambdaConfigFromEnv = (env: NodeJS.ProcessEnv = process.env): PipelineConfig => {
  const json = configJsonFromEnv(CONFIG_ENV, env);
  if (json === undefined) {
    throw new ConfigError(
      CONFIG_ENV,
      'not set: set it to the pipeline config as JSON, e.g. {"lake":{"type":"s3","bucket":"acme-api-logs"}}',
    );
  }
  return parseConfig(PipelineConfig, json, CONFIG_ENV);
};
