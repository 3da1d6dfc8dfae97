/**
 * The library under measurement: the built package in dist/ (what users install; `npm run
 * bench` builds it first), not src/ through tsx. tsx's transform keeps function names by
 * wrapping every closure as it is created, which made an HTTP request through the middleware
 * about 10% more expensive than the build does (149 vs 136 us of server CPU in one A/B),
 * while the references (Express, body-parser) run untransformed. Typed as the source
 * modules, so the bench typechecks without a build.
 */
import { existsSync } from 'node:fs';

type IndexEntry = typeof import('../src/index.js');
type FetchEntry = typeof import('../src/fetch.js');
type RedisEntry = typeof import('../src/redis.js');
type PostgresEntry = typeof import('../src/postgres.js');
type DynamoDbEntry = typeof import('../src/dynamodb.js');
type PgBossEntry = typeof import('../src/pg-boss.js');

async function loadBuilt<T>(file: string): Promise<T> {
  const url = new URL(`../dist/${file}`, import.meta.url);
  if (!existsSync(url)) throw new Error(`${file} is not built: run npm run build (npm run bench does)`);
  return (await import(url.href)) as T;
}

/** `kompliant-webhooks` (dist/index.js). */
export const library: IndexEntry = await loadBuilt<IndexEntry>('index.js');
/** `kompliant-webhooks/fetch` (dist/fetch.js). */
export const fetchEntry: FetchEntry = await loadBuilt<FetchEntry>('fetch.js');
/** `kompliant-webhooks/redis` (dist/redis.js). */
export const redisEntry: RedisEntry = await loadBuilt<RedisEntry>('redis.js');
/** `kompliant-webhooks/redis`, `/postgres` and `/dynamodb`, loaded when the store bench runs (they pull in no peer until used). */
export const storeEntries = async (): Promise<{ redis: RedisEntry; postgres: PostgresEntry; dynamodb: DynamoDbEntry }> => ({
  redis: await loadBuilt<RedisEntry>('redis.js'),
  postgres: await loadBuilt<PostgresEntry>('postgres.js'),
  dynamodb: await loadBuilt<DynamoDbEntry>('dynamodb.js'),
});
/** `kompliant-webhooks/pg-boss` (dist/pg-boss.js), loaded when the inbox bench runs. */
export const pgBossEntry = (): Promise<PgBossEntry> => loadBuilt<PgBossEntry>('pg-boss.js');
