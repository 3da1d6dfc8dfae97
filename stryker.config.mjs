// npm run mutate: mutation testing of the layers where a surviving mutant is a security or
// durability hole. Incremental: a rerun tests only mutants whose code or covering tests changed.
// Reports land in reports/ (not committed); survivors judged equivalent are listed, one line
// each, in docs/contributing/mutation-testing.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.ts', related: true },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  mutate: [
    'src/wire/**/*.ts',
    'src/http/**/*.ts',
    'src/key-stores/**/*.ts',
    // Reached only through the AWS SDK against a local fake; its guards have their own suite.
    '!src/key-stores/aws-secrets-manager.ts',
    // The receive path only: not router.ts (dispatch to user handlers after the guards), options.ts
    // (option defaults and validation at start-up) or wire-format-diagnosis.ts (hint texts).
    'src/receiver/receive.ts',
    'src/receiver/pipeline.ts',
    'src/receiver/accounts.ts',
    'src/receiver/payload-schemas.ts',
    'src/receiver/receiver.ts',
    'src/receiver/notify-error.ts',
    'src/idempotency/memory.ts',
  ],
  ignoreStatic: true,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  concurrency: 2,
  timeoutMS: 5_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  cleanTempDir: 'always',
};
