// A receiver process whose transaction's session PostgreSQL ends mid-handler (postgres-transaction.test.ts): it must answer, live on, and run the retry once.
import pg from 'pg';
import { createWebhookReceiver, isWebhookError, memoryKeyStore } from '../../src/index.js';
import { inPostgresTransaction } from '../../src/postgres.js';
import { postgresConnection } from './postgres-server.js';

const { PG_HOST, PG_PORT, KEY_ID, SECRET, BODY, MODE } = process.env;
// No 'error' listener on the pool either: nothing here catches a client's error for the library.
const pool = new pg.Pool({ ...postgresConnection({ host: PG_HOST!, port: Number(PG_PORT) }), max: 2 });
const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_ID!]: SECRET! }), idempotency: false });
const outcome = (promise: Promise<unknown>) =>
  promise.then(
    () => ({ status: 200 }),
    (error: unknown) => ({ status: isWebhookError(error) ? error.status : 0, code: isWebhookError(error) ? error.code : String(error) }),
  );
const write = (worker: string) =>
  inPostgresTransaction({ pool }, async (event, client) => {
    await client.query('INSERT INTO business_rows (event_id, worker) VALUES ($1, $2)', [event.id, worker]);
  });

const sent = JSON.parse(BODY!) as Record<string, unknown>;
const first = await outcome(
  receiver.handle(
    sent,
    inPostgresTransaction({ pool }, async (event, client) => {
      await client.query('INSERT INTO business_rows (event_id, worker) VALUES ($1, $2)', [event.id, 'first']);
      if (MODE === 'idle-timeout') await client.query("SET idle_in_transaction_session_timeout = '100ms'");
      const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
      process.stdout.write(`pid ${String(rows[0].pid)}\n`);
      await new Promise(() => undefined); // never settles: only the session's end can answer this delivery
    }),
  ),
);
const retry = await outcome(receiver.handle({ ...sent, retry_count: 1 }, write('retry')));
const again = await outcome(receiver.handle({ ...sent, retry_count: 2 }, write('again')));
process.stdout.write(`${JSON.stringify({ first, retry, again })}\n`);
await pool.end();
