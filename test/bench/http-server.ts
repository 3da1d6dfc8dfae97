/**
 * A bench HTTP server in its own process (forked by http-bench.ts and soak-bench.ts), so the
 * load generator and the server do not share an event loop. Protocol over IPC:
 * parent -> `{type:'start', kind, secret, keyId}`; child -> `{type:'listening', port}`;
 * parent -> `{type:'samples'}`; child -> `{type:'samples', samples}` (memory every 100 ms).
 */
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { fetchEntry, library } from './library.js';
import { fetchToNodeListener } from './fetch-bridge.js';

const { kompliantWebhook, memoryKeyStore } = library;
const { createFetchHandler } = fetchEntry;

/**
 * The servers the HTTP bench can start. `fetch-kompliant` is `createFetchHandler` served from
 * node:http through the minimal Request/Response bridge in fetch-bridge.ts; `fetch-bare` is a
 * Fetch handler that only runs `request.json()` and answers 200, through the same bridge.
 */
export const SERVER_KINDS = ['express-kompliant', 'express-json', 'node-kompliant', 'node-bare', 'fetch-kompliant', 'fetch-bare'] as const;
/** One of {@link SERVER_KINDS}. */
export type ServerKind = (typeof SERVER_KINDS)[number];

/** One memory sample of the server process. */
export interface ServerSample {
  handled: number;
  rss: number;
  heapUsed: number;
}

/** IPC from the bench process to the server process. */
export type ParentMessage = { type: 'start'; kind: ServerKind; secret: string; keyId: string } | { type: 'samples' };
/** IPC from the server process to the bench process. */
export type ChildMessage = { type: 'listening'; port: number } | { type: 'samples'; samples: ServerSample[] };

let handled = 0;
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

function listenerFor(kind: ServerKind, secret: string, keyId: string): RequestListener {
  const keyStore = memoryKeyStore({ [keyId]: secret });
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
    case 'node-bare':
      return bareNodeHandler;
    case 'fetch-kompliant':
      return fetchToNodeListener(createFetchHandler({ keyStore, onEvent }));
    case 'fetch-bare':
      return fetchToNodeListener(bareFetchHandler);
  }
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

const samples: ServerSample[] = [];

process.on('message', (message: ParentMessage) => {
  if (message.type === 'start') {
    const server = createServer(listenerFor(message.kind, message.secret, message.keyId));
    server.keepAliveTimeout = 60_000;
    server.listen(0, '127.0.0.1', () => {
      send({ type: 'listening', port: (server.address() as AddressInfo).port });
      const timer = setInterval(() => {
        const { rss, heapUsed } = process.memoryUsage();
        samples.push({ handled, rss, heapUsed });
      }, 100);
      timer.unref();
    });
  } else {
    send({ type: 'samples', samples: samples.splice(0) });
  }
});
process.on('disconnect', () => process.exit(0));
