// Vitest settings for mutation testing (npm run mutate): the in-process suites of the layers Stryker
// mutates. Suites that run the built package or child processes cannot see a mutant and stay out.
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

const src = fileURLToPath(new URL('./src/', import.meta.url));

export default mergeConfig(
  base,
  defineConfig({
    // Examples import the package by name: point it at src/ so they see the mutants (Stryker's sandbox has no dist/).
    resolve: {
      alias: [
        { find: /^kompliant-webhooks$/, replacement: `${src}index.ts` },
        { find: /^kompliant-webhooks\/(.*)$/, replacement: `${src}$1.ts` },
      ],
    },
    test: {
      include: [
        'test/wire/**/*.test.ts',
        'test/http/**/*.test.ts',
        'test/key-stores/**/*.test.ts',
        'test/receiver/**/*.test.ts',
        'test/delivery/**/*.test.ts',
        'test/adapters/**/*.test.ts',
        'test/idempotency/memory.test.ts',
        'test/idempotency/contract.test.ts',
        'test/e2e/**/*.test.ts',
      ],
      exclude: ['test/key-stores/aws-subpath.test.ts', 'test/e2e/faults.test.ts'],
    },
  }),
);
