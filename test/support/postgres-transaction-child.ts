// A receiver process killed mid-transaction by postgres-transaction.test.ts: it writes a business row, says so, then hangs.
import pg from 'pg';
import { createWebhookReceiver, memoryKeyStore } from '../../src/index.js';
import { inPostgresTransaction } from '../../src/postgres.js';
import { postgresConnection } from './postgres-server.js';

const { PG_HOST, PG_PORT, KEY_ID, SECRET, BODY } = process.env;
const pool = new pg.Pool(postgresConnection({ host: PG_HOST!, port: Number(PG_PORT) }));
const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_ID!]: SECRET! }), idempotency: false });
await receiver.handle(
  BODY!,
  inPostgresTransaction({ pool }, async (event, client) => {
    await client.query('INSERT INTO business_rows (event_id, worker) VALUES ($1, $2)', [event.id, 'child']);
    process.stdout.write('inserted\n');
    await new Promise(() => undefined); // until the test kills this process
  }),
);
