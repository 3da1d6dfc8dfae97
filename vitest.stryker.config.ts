// Vitest settings for mutation testing (npm run mutate): the in-process suites of the layers Stryker
// mutates. Suites that run the built package or child processes cannot see a mutant and stay out.
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import base from './vitest.config.js';

const src = fileURLToPath(new URL('./src/', import.meta.url));

// Stryker runs, for each mutant, only the tests that cover it and stops at the first failure. Run the
// layers' own unit suites first and the slow end-to-end ones last, so a killed mutant costs seconds.
const SLOW = ['test/key-stores/cache.test.ts', 'test/key-stores/cache-budget.test.ts', 'test/idempotency/contract.test.ts', 'test/e2e/body-parsers.test.ts'];
const FIRST = ['test/wire/', 'test/http/', 'test/key-stores/', 'test/idempotency/', 'test/receiver/', 'test/delivery/', 'test/adapters/', 'test/e2e/'];
const rank = (file: string): number => {
  const slow = SLOW.findIndex((name) => file.endsWith(name));
  if (slow >= 0) return FIRST.length + slow;
  const folder = FIRST.findIndex((name) => file.includes(`/${name}`));
  return folder >= 0 ? folder : FIRST.length - 1;
};
class UnitSuitesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return [...files].sort((a, b) => rank(a.moduleId) - rank(b.moduleId) || a.moduleId.localeCompare(b.moduleId));
  }
}

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
      exclude: [
        'test/key-stores/aws-subpath.test.ts',
        'test/e2e/faults.test.ts',
        // 10 000 random runs per mutant, and a random kill is no proof: every guard it reaches has a
        // deterministic test in the layer's own suite.
        'test/e2e/fuzz.test.ts',
      ],
      // One worker that keeps its modules between test files: Stryker switches mutants at run time,
      // and a fresh worker per file costs more than most mutants' tests (every suite passes this way).
      isolate: false,
      sequence: { sequencer: UnitSuitesFirst },
    },
  }),
);
