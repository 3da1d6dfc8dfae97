// Vitest settings: generous per-test timeouts, since a deadline in a test is a bound for a hung test, never a speed check.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: {
      // The AWS SDK's documented switch for its "node >=22 from 2027" warning (printed once per worker).
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    // Many suites answer rejections on purpose; without a `logger` option each prints its default
    // stderr line. Suites that check those lines spy on console, which this filter does not affect.
    onConsoleLog: (log, type) => !(type === 'stderr' && log.startsWith('kompliant-webhooks: ')),
  },
});
