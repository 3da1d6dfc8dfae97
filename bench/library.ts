/**
 * The library under measurement: the built package in dist/ (what users install; `npm run
 * bench` builds it first), run as Node runs it. tsx transforms every file outside node_modules,
 * dist/ included, and its transform keeps function names by wrapping every closure as it is
 * created; so each bench process imports a copy of dist/ under node_modules/.cache, which tsx
 * leaves alone, as an application's node_modules/kompliant-webhooks is. Typed as the source
 * modules, so the bench typechecks without a build.
 */
import { cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

type IndexEntry = typeof import('../src/index.js');
type FetchEntry = typeof import('../src/fetch.js');
type RedisEntry = typeof import('../src/redis.js');
type PostgresEntry = typeof import('../src/postgres.js');
type DynamoDbEntry = typeof import('../src/dynamodb.js');
type PgBossEntry = typeof import('../src/pg-boss.js');

/** The copy's folder: made by the first bench process, inherited by the servers it forks. */
function buildCopy(): string {
  const inherited = process.env.KW_BENCH_BUILD;
  if (inherited !== undefined && existsSync(inherited)) return inherited;
  const dist = fileURLToPath(new URL('../dist/', import.meta.url));
  if (!existsSync(new URL('../dist/index.js', import.meta.url))) throw new Error('dist/ is not built: run npm run build (npm run bench does)');
  // Inside the project's node_modules, so the copy resolves the optional peers installed there;
  // one per bench run (two checkouts may share node_modules), removed when that run exits.
  const folder = fileURLToPath(new URL(`../node_modules/.cache/kompliant-webhooks-bench/${process.pid}/`, import.meta.url));
  cpSync(dist, `${folder}dist`, { recursive: true });
  writeFileSync(`${folder}package.json`, '{ "type": "module" }\n');
  process.on('exit', () => rmSync(folder, { recursive: true, force: true }));
  process.env.KW_BENCH_BUILD = `${folder}dist`;
  return `${folder}dist`;
}

const built = buildCopy();

async function loadBuilt<T>(file: string): Promise<T> {
  return (await import(pathToFileURL(`${built}/${file}`).href)) as T;
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
