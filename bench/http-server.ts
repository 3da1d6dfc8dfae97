/**
 * A bench HTTP server in its own process (forked by http-bench.ts and soak-bench.ts), so the
 * load generator and the server do not share an event loop. Protocol over IPC:
 * parent -> `{type:'start', kind, secret, keyId, stores?}`; child -> `{type:'listening', port}`;
 * parent -> `{type:'samples'}`; child -> `{type:'samples', samples}` (memory every 100 ms);
 * parent -> `{type:'usage'}`; child -> `{type:'usage', requests, cpuMicros}` (totals so far).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';
import pg from 'pg';
import { localDynamoDbClient } from '../test/support/dynamodb-server.js';
import { postgresConnection } from '../test/support/postgres-server.js';
import { PgBoss } from 'pg-boss';
import { fetchEntry, library, pgBossEntry, redisEntry, storeEntries } from './library.js';
import { fetchToNodeListener } from './fetch-bridge.js';
import { naiveOpen } from './naive-open.js';
import { naivePostgresStoreHandler, naivePostgresTransactionHandler, OURS_EFFECT_SQL } from './naive-postgres-routes.js';

const { kompliantWebhook, memoryKeyStore } = library;
const { createFetchHandler } = fetchEntry;
const { redisIdempotencyStore } = redisEntry;
const { postgres: postgresEntry, dynamodb: dynamodbEntry } = await storeEntries();

/**
 * The servers the HTTP bench can start. `fetch-*` kinds are Fetch handlers served from node:http
 * through the minimal Request/Response bridge in fetch-bridge.ts. The `*-naive` kinds are the
 * references: a naive decrypt route written inline (spec AAD, AES-256-GCM, JSON.parse, no
 * validation, no limits), sharing nothing with src/. `node-kompliant-redis` is the node:http
 * handler with the Redis dedup store (a local redis-server), against `node-kompliant` (memory);
 * `-postgres` and `-dynamodb` likewise (a throwaway PostgreSQL cluster, dynalite);
 * `node-kompliant-no-dedup` is the same handler with `idempotency: false`. `node-kompliant-slow`
 * runs a handler that takes `handlerMs` before the answer; `node-kompliant-inbox` answers once a
 * pg-boss job is stored (pgBossInbox on `stores.postgres`), the slow handler left to a worker;
 * `node-enqueue-only` is its baseline: the same pgBossInbox behind node:http, with no receiver
 * (JSON.parse of the body, then `enqueue`, then 200), so the two differ by the receiver's own work.
 * The `*-pg-*` kinds (the SQL bench, sql-bench.ts) each write one effect row per event to
 * `stores.postgres`: ours through `inPostgresTransaction` or `postgresIdempotencyStore`, the
 * naive ones (naive-postgres-routes.ts) by hand, with their own tables and SQL.
 */
export const SERVER_KINDS = [
  'express-kompliant',
  'express-json',
  'node-kompliant',
  'node-kompliant-redis',
  'node-kompliant-postgres',
  'node-kompliant-dynamodb',
  'node-kompliant-no-dedup',
  'node-naive',
  'node-bare',
  'fetch-kompliant',
  'fetch-naive',
  'fetch-bare',
  'node-kompliant-slow',
  'node-kompliant-inbox',
  'node-enqueue-only',
  'node-kompliant-pg-transaction',
  'node-naive-pg-transaction',
  'node-kompliant-pg-store',
  'node-naive-pg-store',
] as const;
/** One of {@link SERVER_KINDS}. */
export type ServerKind = (typeof SERVER_KINDS)[number];

/** One memory sample of the server process. */
export interface ServerSample {
  handled: number;
  rss: number;
  heapUsed: number;
}

/** Where the shared dedup stores of the `node-kompliant-<store>` kinds listen (the bench process starts them). */
export interface StoreEndpoints {
  redisPort?: number;
  /** A PostgreSQL socket folder and port (user and database `postgres`), its dedup table created. */
  postgres?: { host: string; port: number };
  /** A DynamoDB-protocol endpoint (dynalite) and its dedup table. */
  dynamodb?: { endpoint: string; tableName: string };
}

/** IPC from the bench process to the server process. */
export type ParentMessage =
  | { type: 'start'; kind: ServerKind; secret: string; keyId: string; stores?: StoreEndpoints; handlerMs?: number }
  | { type: 'samples' }
  | { type: 'usage' };
/** IPC from the server process to the bench process. */
export type ChildMessage =
  | { type: 'listening'; port: number }
  | { type: 'samples'; samples: ServerSample[] }
  | { type: 'usage'; requests: number; cpuMicros: number };

let handled = 0;
// Every request the server saw (duplicates and failures too), for CPU time per request.
let requests = 0;
const RECEIVED = JSON.stringify({ received: true });

function onEvent(): void {
  handled++;
}

function answerReceived(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(RECEIVED) });
  res.end(RECEIVED);
}

/** The reference a hand-written node:http receiver would at least do: read the body, JSON.parse, 200. */
function bareNodeHandler(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end();
      return;
    }
    handled++;
    answerReceived(res);
  });
}

/** The Fetch reference: parse the JSON body, 200. */
async function bareFetchHandler(request: Request): Promise<Response> {
  try {
    await request.json();
  } catch {
    return new Response(null, { status: 400 });
  }
  handled++;
  return new Response(RECEIVED, { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' } });
}

/** The naive node:http decrypt route: read the body, decrypt, 200 (400 on any failure). */
function naiveNodeHandler(key: Buffer): RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        naiveOpen(key, Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end();
        return;
      }
      handled++;
      answerReceived(res);
    });
  };
}

/** The naive Fetch decrypt route: `request.text()`, decrypt, 200 (400 on any failure). */
function naiveFetchHandler(key: Buffer): (request: Request) => Promise<Response> {
  return async (request) => {
    try {
      naiveOpen(key, await request.text());
    } catch {
      return new Response(null, { status: 400 });
    }
    handled++;
    return new Response(RECEIVED, { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' } });
  };
}

async function listenerFor(kind: ServerKind, secret: string, keyId: string, stores: StoreEndpoints, handlerMs: number): Promise<RequestListener> {
  const keyStore = memoryKeyStore({ [keyId]: secret });
  const key = Buffer.from(secret, 'base64');
  switch (kind) {
    case 'express-kompliant': {
      const app = express();
      app.post('/webhook', kompliantWebhook({ keyStore, onEvent }));
      return app;
    }
    case 'express-json': {
      const app = express();
      app.post('/webhook', express.json({ limit: '1mb' }), (_req, res) => {
        handled++;
        res.status(200).json({ received: true });
      });
      return app;
    }
    case 'node-kompliant':
      return kompliantWebhook({ keyStore, onEvent });
    case 'node-kompliant-redis': {
      if (stores.redisPort === undefined) throw new Error('node-kompliant-redis needs a redis port');
      const client = new Redis({ host: '127.0.0.1', port: stores.redisPort });
      return kompliantWebhook({ keyStore, onEvent, idempotency: redisIdempotencyStore({ client }) });
    }
    case 'node-kompliant-postgres': {
      if (stores.postgres === undefined) throw new Error('node-kompliant-postgres needs a PostgreSQL server');
      const pool = new pg.Pool({ ...postgresConnection(stores.postgres), max: 16 });
      return kompliantWebhook({ keyStore, onEvent, idempotency: postgresEntry.postgresIdempotencyStore({ pool }) });
    }
    case 'node-kompliant-dynamodb': {
      if (stores.dynamodb === undefined) throw new Error('node-kompliant-dynamodb needs a DynamoDB endpoint');
      const client = localDynamoDbClient(stores.dynamodb.endpoint);
      const idempotency = dynamodbEntry.dynamoDbIdempotencyStore({ client, tableName: stores.dynamodb.tableName });
      return kompliantWebhook({ keyStore, onEvent, idempotency });
    }
    case 'node-kompliant-no-dedup':
      return kompliantWebhook({ keyStore, onEvent, idempotency: false });
    case 'node-naive':
      return naiveNodeHandler(key);
    case 'fetch-naive':
      return fetchToNodeListener(naiveFetchHandler(key));
    case 'node-bare':
      return bareNodeHandler;
    case 'fetch-kompliant':
      return fetchToNodeListener(createFetchHandler({ keyStore, onEvent }));
    case 'fetch-bare':
      return fetchToNodeListener(bareFetchHandler);
    case 'node-kompliant-slow':
      return kompliantWebhook({
        keyStore,
        onEvent: async () => {
          await new Promise((resolve) => setTimeout(resolve, handlerMs));
          handled++;
        },
      });
    case 'node-kompliant-pg-transaction': {
      const pool = sqlBenchPool(stores);
      const effect = postgresEntry.inPostgresTransaction({ pool }, async (event, client) => {
        await client.query(OURS_EFFECT_SQL, [event.id, event.event_type]);
        handled++;
      });
      return kompliantWebhook({ keyStore, idempotency: false, onEvent: effect });
    }
    case 'node-kompliant-pg-store': {
      const pool = sqlBenchPool(stores);
      return kompliantWebhook({
        keyStore,
        idempotency: postgresEntry.postgresIdempotencyStore({ pool }),
        onEvent: async (event) => {
          await pool.query(OURS_EFFECT_SQL, [event.id, event.event_type]);
          handled++;
        },
      });
    }
    case 'node-naive-pg-transaction':
      return naivePostgresTransactionHandler(key, sqlBenchPool(stores), () => handled++);
    case 'node-naive-pg-store':
      return naivePostgresStoreHandler(key, sqlBenchPool(stores), () => handled++);
    case 'node-kompliant-inbox': {
      if (stores.postgres === undefined) throw new Error('node-kompliant-inbox needs a PostgreSQL server');
      const { pgBossInbox } = await pgBossEntry();
      const boss = new PgBoss({ ...postgresConnection(stores.postgres), max: 16, supervise: false });
      await boss.start();
      return kompliantWebhook({ keyStore, inbox: pgBossInbox({ boss, queue: 'bench-inbox' }) });
    }
    case 'node-enqueue-only': {
      if (stores.postgres === undefined) throw new Error('node-enqueue-only needs a PostgreSQL server');
      const { pgBossInbox } = await pgBossEntry();
      const boss = new PgBoss({ ...postgresConnection(stores.postgres), max: 16, supervise: false });
      await boss.start();
      return enqueueOnlyHandler(pgBossInbox({ boss, queue: 'bench-inbox' }));
    }
  }
}

/** The pool of a `*-pg-*` kind: 16 connections, like the PostgreSQL store row of bench 2. */
function sqlBenchPool(stores: StoreEndpoints): pg.Pool {
  if (stores.postgres === undefined) throw new Error('the SQL bench servers need a PostgreSQL server');
  return new pg.Pool({ ...postgresConnection(stores.postgres), max: 16 });
}

/** The inbox's baseline: read the body, JSON.parse it, enqueue it as it is (no key, no decryption, no checks), 200. */
function enqueueOnlyHandler(inbox: { enqueue(envelope: never, meta: never): Promise<void> }): RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const envelope = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>;
      const meta = {
        jobId: randomUUID(),
        accountId: envelope.account_id,
        eventId: envelope.id,
        eventType: envelope.event_type,
        keyId: envelope.key_id,
        subjectRecordId: undefined,
        receivedAt: new Date(),
      };
      inbox.enqueue(envelope as never, meta as never).then(
        () => {
          handled++;
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(RECEIVED);
        },
        () => res.writeHead(500).end(),
      );
    });
  };
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

const samples: ServerSample[] = [];

process.on('message', async (message: ParentMessage) => {
  if (message.type === 'start') {
    const server = createServer(await listenerFor(message.kind, message.secret, message.keyId, message.stores ?? {}, message.handlerMs ?? 0));
    server.keepAliveTimeout = 60_000;
    server.on('request', () => {
      requests++;
    });
    server.listen(0, '127.0.0.1', () => {
      send({ type: 'listening', port: (server.address() as AddressInfo).port });
      const timer = setInterval(() => {
        const { rss, heapUsed } = process.memoryUsage();
        samples.push({ handled, rss, heapUsed });
      }, 100);
      timer.unref();
    });
  } else if (message.type === 'usage') {
    const { user, system } = process.cpuUsage();
    send({ type: 'usage', requests, cpuMicros: user + system });
  } else {
    send({ type: 'samples', samples: samples.splice(0) });
  }
});
process.on('disconnect', () => process.exit(0));
