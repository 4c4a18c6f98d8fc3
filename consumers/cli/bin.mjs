#!/usr/bin/env node
// Runs the TypeScript CLI directly: Shardline ships its sources and runs them with tsx.
import { register } from 'tsx/esm/api';

// The lock file pins the AWS SDK; its notice that future releases need Node 22 is in the README.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('./main.ts');
