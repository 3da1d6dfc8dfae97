// pg-boss on a throwaway PostgreSQL for the inbox tests: one cluster, a pool and a started PgBoss.
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import type { InboxWorker } from '../../src/pg-boss.js';
import { postgresConnection, startPostgresServer, type PostgresServer } from './postgres-server.js';

/** What {@link startPgBoss} starts. */
export interface PgBossFixture {
  server: PostgresServer;
  pool: pg.Pool;
  boss: PgBoss;
}

/** Starts a throwaway PostgreSQL, a pool of `poolMax` connections to it and a PgBoss (6 connections) on it. */
export async function startPgBoss(poolMax: number): Promise<PgBossFixture> {
  const server = await startPostgresServer();
  const connection = postgresConnection(server);
  const pool = new pg.Pool({ ...connection, max: poolMax });
  const boss = new PgBoss({ ...connection, max: 6 });
  boss.on('error', () => undefined);
  await boss.start();
  return { server, pool, boss };
}

/** Stops the workers, then PgBoss, the pool and the server (whichever were started). */
export async function stopPgBoss(fixture: Partial<PgBossFixture>, workers: readonly InboxWorker[]): Promise<void> {
  for (const worker of workers) await worker.stop({ timeoutMs: 5000 });
  await fixture.boss?.stop({ graceful: false, close: true, timeout: 5000 });
  await fixture.pool?.end();
  await fixture.server?.remove();
}
