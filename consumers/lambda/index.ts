import { createLogger } from '../../pipeline/observability/logger.ts';
import type { KinesisBatchResponse, KinesisStreamEvent } from './kinesis-event.ts';
import { createKinesisHandler, type KinesisHandler, type LambdaContext } from './kinesis-handler.ts';
import { lambdaConfigFromEnv } from './lambda-config.ts';

let instance: KinesisHandler | undefined;

/** The function's handler (`consumers/lambda/index.handler`): config from `$SHARDLINE_CONFIG`. */
export const handler = (event: KinesisStreamEvent, context: LambdaContext): Promise<KinesisBatchResponse> => {
  instance ??= createKinesisHandler({
    config: lambdaConfigFromEnv(),
    logger: createLogger({ component: 'lambda' }),
  });
  return instance(event, context);
};
