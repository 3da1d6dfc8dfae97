// Vitest settings: generous per-test timeouts, since a deadline in a test is a bound for a hung test, never a speed check.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Many suites answer rejections on purpose; without a `logger` option each prints its default
    // stderr line. Suites that check those lines spy on console, which this filter does not affect.
    onConsoleLog: (log, type) => !(type === 'stderr' && log.startsWith('kompliant-webhooks: ')),
  },
});
