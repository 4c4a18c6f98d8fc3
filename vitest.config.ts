import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'pipeline/**/*.test.ts',
      'consumers/**/*.test.ts',
      'schemas/**/*.test.ts',
      'fluent-bit/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
