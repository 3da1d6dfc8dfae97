// A body the client abandons part-way: REQUEST_TIMEOUT with the message that tells it from a slow
// sender ("Request body was aborted"), on node:http (Express) and on Fetch.
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { kompliantWebhook, memoryKeyStore, type WebhookError } from '../../src/index.js';
import { createFetchHandler } from '../../src/fetch.js';
import { KEY_ID, PATH, SECRET } from '../support/app.js';

const keyStore = memoryKeyStore({ [KEY_ID]: SECRET });

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
});

describe('a body the client abandons part-way', () => {
  it('node:http (Express): onError gets REQUEST_TIMEOUT "Request body was aborted", and the handler never runs', async () => {
    const errors: WebhookError[] = [];
    const onEvent = vi.fn();
    const app = express();
    app.post(PATH, kompliantWebhook({ keyStore, onEvent, onError: (error) => void errors.push(error), logger: false }));
    server = createServer(app);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    // The server's own listener runs after the app's, which has started reading the body by then.
    const reading = new Promise((resolve) => server!.once('request', resolve));
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    socket.write(`POST ${PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"id":"wh_`);
    await reading;
    socket.destroy(); // hang up mid-body
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    expect(errors[0]).toMatchObject({ code: 'REQUEST_TIMEOUT', message: 'Request body was aborted' });
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('node:http (Express): a request stream destroyed without an error ends the read at once, not at the read deadline', async () => {
    const errors: WebhookError[] = [];
    const app = express();
    // Another middleware (or the server) destroys the request while the body is being read.
    app.use((req, _res, next) => {
      next();
      setImmediate(() => req.destroy());
    });
    app.post(PATH, kompliantWebhook({ keyStore, onEvent: vi.fn(), onError: (error) => void errors.push(error), logger: false, readTimeoutMs: 60_000 }));
    server = createServer(app);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(`POST ${PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"id":"wh_`);
    await vi.waitFor(() => expect(errors).toHaveLength(1), { timeout: 5000 });
    expect(errors[0]).toMatchObject({ code: 'REQUEST_TIMEOUT', message: 'Request body was aborted' });
    socket.destroy();
  });

  it('Fetch: a body stream that errors is a 408 REQUEST_TIMEOUT "Request body was aborted"', async () => {
    const errors: WebhookError[] = [];
    const onEvent = vi.fn();
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) controller.error(new Error('socket hang up'));
        else controller.enqueue(new TextEncoder().encode('{"id":"wh_'));
        sent = true;
      },
    });
    const handler = createFetchHandler({ keyStore, onEvent, onError: (error) => void errors.push(error), logger: false });
    const res = await handler(
      new Request(`http://localhost${PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit),
    );
    expect(res.status).toBe(408);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'REQUEST_TIMEOUT',
      message: 'Request body was aborted',
    });
    expect(errors).toMatchObject([{ code: 'REQUEST_TIMEOUT', message: 'Request body was aborted' }]);
    expect(onEvent).not.toHaveBeenCalled();
  });
});
