// The streaming body cap: a chunked body with no Content-Length is refused once the bytes received
// pass maxBodyBytes, on every adapter that reads the body itself, instead of being buffered whole.
import { createServer, request as httpRequest, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { kompliantWebhook, memoryKeyStore } from '../../src/index.js';
import { kompliantFastify } from '../../src/fastify.js';
import { createFetchHandler } from '../../src/fetch.js';
import { createLambdaHandler } from '../../src/lambda.js';
import { KEY_ID, PATH, SECRET } from '../support/app.js';
import { restApiEvent } from '../support/lambda-events.js';

const MAX = 1024;
const CHUNK = 16 * 1024;
// What the client would send in all: far past what loopback socket buffers hold.
const TOTAL = 64 * 1024 * 1024;
// Bytes in flight in kernel buffers when the server answers; a reader without the cap takes all of TOTAL.
const IN_FLIGHT_BOUND = 16 * 1024 * 1024;

const options = { keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), maxBodyBytes: MAX, onEvent: () => undefined };

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
});

async function listen(listener: RequestListener): Promise<number> {
  server = createServer(listener);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Streams a chunked JSON body of up to TOTAL bytes (respecting backpressure) until the server answers or closes. */
function streamChunked(port: number): Promise<{ status: number | undefined; written: number; connection: string | undefined }> {
  return new Promise((resolve) => {
    let written = 0;
    let status: number | undefined;
    let connection: string | undefined;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      req.destroy();
      resolve({ status, written, connection });
    };
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: PATH, headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } });
    req.on('response', (res) => {
      status = res.statusCode;
      connection = res.headers.connection;
      res.resume();
      res.on('end', finish);
      res.on('close', finish);
    });
    req.on('error', finish);
    req.on('close', () => setImmediate(finish));
    const chunk = Buffer.alloc(CHUNK, 0x20);
    chunk[0] = 0x7b; // every chunk opens a JSON object: a body that never parses, were it read whole
    // Writes until backpressure; the answer (or a close) can only arrive between two pumps.
    const pump = (): void => {
      if (done || status !== undefined) return;
      while (written < TOTAL) {
        written += CHUNK;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

describe('a chunked body past maxBodyBytes is refused after reading about maxBodyBytes, and the connection closed', () => {
  it('on plain node:http', async () => {
    const port = await listen(kompliantWebhook(options) as unknown as RequestListener);
    const result = await streamChunked(port);
    expect(result.status).toBe(413);
    expect(result.connection).toBe('close');
    expect(result.written).toBeLessThan(IN_FLIGHT_BOUND);
  });

  it('under Express', async () => {
    const app = express();
    app.post(PATH, kompliantWebhook(options));
    const port = await listen(app);
    const result = await streamChunked(port);
    expect(result.status).toBe(413);
    expect(result.connection).toBe('close');
    expect(result.written).toBeLessThan(IN_FLIGHT_BOUND);
  });

  it('under Fastify (the route bodyLimit is maxBodyBytes)', async () => {
    const app = Fastify();
    await app.register(kompliantFastify, { prefix: PATH, ...options });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const result = await streamChunked((app.server.address() as AddressInfo).port);
      expect(result.status).toBe(413);
      expect(result.written).toBeLessThan(IN_FLIGHT_BOUND);
    } finally {
      await app.close();
    }
  });

  it('on the Fetch handler: it pulls no more than about maxBodyBytes from the stream', async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += CHUNK;
        if (pulled > TOTAL) controller.close();
        else controller.enqueue(new Uint8Array(CHUNK).fill(0x20));
      },
    });
    const handler = createFetchHandler(options);
    const response = await handler(
      new Request(`http://localhost${PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit),
    );
    expect(response.status).toBe(413);
    // The stream's own queue may pull a chunk or two ahead of the reader.
    expect(pulled).toBeLessThanOrEqual(MAX + 4 * CHUNK);
  });

  it('on Lambda: a base64 body that decodes past maxBodyBytes is 413', async () => {
    const handler = createLambdaHandler(options);
    const raw = Buffer.alloc(MAX * 8, 0x20);
    raw[0] = 0x7b;
    const event = restApiEvent({ method: 'POST', headers: { 'content-type': 'application/json' }, body: raw.toString('base64'), base64: true });
    const result = await handler(event);
    expect(result.statusCode).toBe(413);
  });
});
