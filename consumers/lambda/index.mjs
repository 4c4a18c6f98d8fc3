// Lambda's entry point (handler `consumers/lambda/index.handler`): Shardline ships its TypeScript
// sources and runs them with tsx, as consumers/cli/bin.mjs does for the CLI.
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const loaded = await import('./index.ts');

export const handler = loaded.handler;
