// Build: the library entry points as ESM and CJS with types; the CLI (a bin, never imported) as one ESM file.
import { defineConfig } from 'tsup';

const shared = { target: 'node20', platform: 'node', sourcemap: false } as const;

export default defineConfig([
  {
    ...shared,
    entry: {
      index: 'src/index.ts',
      testing: 'src/testing.ts',
      redis: 'src/redis.ts',
      aws: 'src/aws.ts',
      client: 'src/client.ts',
      emulator: 'src/emulator.ts',
      fetch: 'src/fetch.ts',
      fastify: 'src/fastify.ts',
      lambda: 'src/lambda.ts',
      otel: 'src/otel.ts',
      postgres: 'src/postgres.ts',
      dynamodb: 'src/dynamodb.ts',
      'pg-boss': 'src/pg-boss.ts',
      sqs: 'src/sqs.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    splitting: true,
    // Both builds run at once: this one's clean must not remove the CLI the other one writes.
    clean: ['!cli.js'],
  },
  {
    ...shared,
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    dts: false,
    splitting: false,
    clean: false,
  },
]);
