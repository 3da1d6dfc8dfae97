// Vitest settings: generous per-test timeouts, since a deadline in a test is a bound for a hung test, never a speed check.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
