// Build: the library entry points as ESM and CJS with types; the CLI (a bin, never imported) as ESM,
// dist/cli.js plus the chunks of what it imports lazily in dist/cli-chunks/.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'tsup';

const shared = { target: 'node22', platform: 'node', sourcemap: false } as const;

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
      wire: 'src/wire.ts',
      schemas: 'src/schemas.ts',
      'pg-boss': 'src/pg-boss.ts',
      sqs: 'src/sqs.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    splitting: true,
    // Both builds run at once: this one's clean must not remove the CLI the other one writes.
    clean: ['!cli.js', '!cli-chunks/**'],
  },
  {
    ...shared,
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    dts: false,
    // Splitting keeps each dynamic import() a separate chunk loaded when it runs: a command that
    // needs an optional peer (the AWS SDK for `rotate --sink aws-secrets-manager`) imports it
    // there, and every other command starts without it installed. Without splitting, esbuild
    // inlines the lazily imported module and its peer import becomes a static one in cli.js.
    splitting: true,
    esbuildOptions(options) {
      options.chunkNames = 'cli-chunks/[name]-[hash]';
    },
    // The chunks' names change with their content, and neither build's clean removes them (see
    // above): the CLI build empties its own folder before writing, so no stale chunk is shipped.
    esbuildPlugins: [
      {
        name: 'clean-cli-chunks',
        setup(build) {
          build.onStart(() => rmSync(join(build.initialOptions.outdir ?? 'dist', 'cli-chunks'), { recursive: true, force: true }));
        },
      },
    ],
    clean: false,
  },
]);
