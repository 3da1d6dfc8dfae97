import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, request as httpRequest, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { kompliantWebhook, memoryKeyStore, type KompliantEvent } from '../../src/index.js';
import { createTestWebhook } from '../../src/testing.js';
import { KEY_ID, PATH, SECRET, createTestApp, type BodyParser } from '../support/app.js';

const envelope = () => createTestWebhook({ secret: SECRET, keyId: KEY_ID });

describe.each([4, 5] as const)('Express %i', (major) => {
  describe.each(['none', 'json', 'raw', 'text'] as BodyParser[])('body parser: %s', (parser) => {
    it('delivers a valid event to onEvent and answers 200 {"received":true}', async () => {
      const { app, onEvent } = createTestApp({ major, parser });
      const sent = envelope();
      const res = await request(app).post(PATH).set('content-type', 'application/json').send(JSON.stringify(sent));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ received: true });
      expect(onEvent).toHaveBeenCalledTimes(1);
      expect((onEvent.mock.calls[0]![0] as KompliantEvent).id).toBe(sent.id);
    });

    it('rejects a tampered event with 401 DECRYPTION_FAILED', async () => {
      const { app, onEvent } = createTestApp({ major, parser });
      const res = await request(app)
        .post(PATH)
        .set('content-type', 'application/json')
        .send(JSON.stringify({ ...envelope(), event_type: 'FORGED' }));
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('DECRYPTION_FAILED');
      expect(onEvent).not.toHaveBeenCalled();
    });
  });

  it('pass-through mode sets req.kompliantEvent and calls next()', async () => {
    const e = (major === 4 ? (await import('express4')).default : express) as typeof express;
    const app = e();
    const sent = envelope();
    app.post(PATH, kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }) }), (req, res) => {
      res.status(200).json({ handled: req.kompliantEvent?.id });
    });
    const res = await request(app).post(PATH).send(sent);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ handled: sent.id });
  });

  it('a bug once the body arrived (a throwing aad function) goes to next(error), for the app error handler', async () => {
    const e = (major === 4 ? (await import('express4')).default : express) as typeof express;
    const app = e();
    const onEvent = vi.fn();
    const aad = () => {
      throw new Error('bug');
    };
    app.post(PATH, kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent, aad }));
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(599).json({ seen: error.message });
    });
    const res = await request(app).post(PATH).set('content-type', 'application/json').send(JSON.stringify(envelope()));
    expect(res.status).toBe(599);
    expect(res.body).toEqual({ seen: 'bug' });
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('pass-through mode does not call next() on failure', async () => {
    const e = (major === 4 ? (await import('express4')).default : express) as typeof express;
    const app = e();
    const next = vi.fn((_req: unknown, res: { sendStatus(n: number): void }) => res.sendStatus(204));
    app.post(PATH, kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }) }), next);
    const res = await request(app).post(PATH).send({ ...envelope(), key_id: 'whk_20000101_01' });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNKNOWN_KEY');
    expect(next).not.toHaveBeenCalled();
  });

  it.each([
    ['throws', () => { throw new Error('db down'); }],
    ['rejects', () => Promise.reject(new Error('db down'))],
  ])('answers 500 HANDLER_FAILED when onEvent %s', async (_name, onEvent) => {
    const onError = vi.fn();
    const { app } = createTestApp({ major, onEvent, onError });
    const res = await request(app).post(PATH).send(envelope());
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'HANDLER_FAILED', message: 'Webhook handler failed' } });
    expect(onError.mock.calls[0]?.[0]).toMatchObject({ code: 'HANDLER_FAILED' });
    expect((onError.mock.calls[0]![0] as Error).cause).toBeInstanceOf(Error);
  });

  it('answers with JSON headers, keeping headers earlier middleware set unless the answer sets them', async () => {
    const e = (major === 4 ? (await import('express4')).default : express) as typeof express;
    const app = e();
    app.use((_req, res, next) => {
      res.setHeader('x-request-id', 'req-1');
      res.setHeader('cache-control', 'public, max-age=60');
      next();
    });
    app.post(PATH, kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent: vi.fn() }));
    for (const [body, status] of [
      [envelope(), 200],
      [{ ...envelope(), event_type: 'FORGED' }, 401],
    ] as const) {
      const res = await request(app).post(PATH).send(body);
      expect(res.status).toBe(status);
      expect(res.headers['x-request-id']).toBe('req-1');
      expect(res.headers['x-powered-by']).toBe('Express');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
    }
  });

  it('answers 405 with Allow: POST for other methods', async () => {
    const e = (major === 4 ? (await import('express4')).default : express) as typeof express;
    const app = e();
    app.use(PATH, kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent: vi.fn() }));
    for (const method of ['get', 'put', 'delete', 'patch'] as const) {
      const res = await request(app)[method](PATH);
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('POST');
      expect(res.body.error.code).toBe('METHOD_NOT_ALLOWED');
    }
  });
});

describe('content type and body', () => {
  it.each([
    ['text/plain'],
    ['application/x-www-form-urlencoded'],
    ['application/xml'],
    ['application/json; charset=utf-16'],
    ['multipart/form-data; boundary=x'],
  ])('answers 415 for Content-Type %s', async (type) => {
    const { app, onEvent } = createTestApp();
    const res = await request(app).post(PATH).set('content-type', type).send(JSON.stringify(envelope()));
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(onEvent).not.toHaveBeenCalled();
  });

  it.each([['application/json; charset=utf-8'], ['application/json;charset=UTF-8'], ['application/cloudevents+json']])(
    'accepts Content-Type %s',
    async (type) => {
      const { app } = createTestApp();
      await request(app).post(PATH).set('content-type', type).send(JSON.stringify(envelope())).expect(200);
    },
  );

  it('answers 415 for a Content-Encoding it does not read', async () => {
    const { app } = createTestApp();
    const res = await request(app)
      .post(PATH)
      .set('content-type', 'application/json')
      .set('content-encoding', 'br')
      .send(JSON.stringify(envelope()));
    expect(res.status).toBe(415);
  });

  it('answers 400 INVALID_JSON for an empty body', async () => {
    const { app } = createTestApp();
    const res = await request(app).post(PATH).set('content-type', 'application/json');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_JSON');
  });

  it.each(['none', 'json', 'raw', 'text'] as BodyParser[])('answers 413 for a body over maxBodyBytes (parser: %s)', async (parser) => {
    const { app, onEvent } = createTestApp({ parser, maxBodyBytes: 2048 });
    const sent = { ...envelope(), padding: 'x'.repeat(4096) };
    const res = await request(app).post(PATH).set('content-type', 'application/json').send(JSON.stringify(sent));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(onEvent).not.toHaveBeenCalled();
  });

  it.each([
    ['read by the middleware', false],
    ['parsed by express.json()', true],
  ])('runs onEvent and onError in the async context of the request (body %s)', async (_name, parsed) => {
    // Request-scoped logging and tracing keep their AsyncLocalStorage store across the body read.
    const requestId = new AsyncLocalStorage<string>();
    const seen: Array<string | undefined> = [];
    const app = express();
    let counter = 0;
    app.use((_req, _res, next) => requestId.run(`req-${++counter}`, next));
    if (parsed) app.use(express.json());
    // A key store that answers later and no cache: the key lookup waits too.
    const secrets = memoryKeyStore({ [KEY_ID]: SECRET });
    const slowStore = { getSecret: async (keyId: string) => { await new Promise((resolve) => setTimeout(resolve, 5)); return secrets.getSecret(keyId); } };
    app.post(
      PATH,
      kompliantWebhook({
        keyStore: slowStore,
        cache: false,
        onEvent: () => void seen.push(requestId.getStore()),
        onError: () => void seen.push(`error ${requestId.getStore()}`),
      }),
    );
    await request(app).post(PATH).set('content-type', 'application/json').send(JSON.stringify(envelope())).expect(200);
    await request(app).post(PATH).set('content-type', 'application/json').send(JSON.stringify({ ...envelope(), event_type: 'FORGED' })).expect(401);
    expect(seen).toEqual(['req-1', 'error req-2']);
  });

  it('authenticates field values, not bytes: a re-serialised body (express.json, reordered, pretty) still verifies', async () => {
    const { app } = createTestApp({ parser: 'json' });
    const sent = envelope();
    const reordered = Object.fromEntries(Object.entries(sent).toReversed());
    await request(app).post(PATH).set('content-type', 'application/json').send(JSON.stringify(reordered, null, 2)).expect(200);
  });
});

describe('raw sockets: chunked, slow and lying bodies', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function serve(listener: RequestListener): Promise<number> {
    const listening = createServer(listener);
    server = listening;
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
    return (listening.address() as AddressInfo).port;
  }

  function listen(options: Parameters<typeof kompliantWebhook>[0]): Promise<number> {
    const middleware = kompliantWebhook(options);
    return serve((req, res) => void middleware(req, res));
  }

  function send(port: number, headers: Record<string, string>, write: (req: ReturnType<typeof httpRequest>) => void) {
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: PATH, method: 'POST', headers }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      write(req);
    });
  }

  it('plain node:http: a chunked body without Content-Length is read and delivered', async () => {
    const onEvent = vi.fn();
    const port = await listen({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent });
    const text = JSON.stringify(envelope());
    const res = await send(port, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, (req) => {
      req.write(text.slice(0, 50));
      req.end(text.slice(50));
    });
    expect(res.status).toBe(200);
    expect(onEvent).toHaveBeenCalledTimes(1);
  });

  it('a chunked body that grows past maxBodyBytes is cut off with 413', async () => {
    const onEvent = vi.fn();
    const port = await listen({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent, maxBodyBytes: 1024 });
    const res = await send(port, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, (req) => {
      for (let i = 0; i < 8; i++) req.write('x'.repeat(512));
      req.end();
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('a body that stops arriving ends at the read deadline with 408', async () => {
    const onEvent = vi.fn();
    const port = await listen({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent, readTimeoutMs: 150 });
    const text = JSON.stringify(envelope());
    const res = await send(port, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, (req) => {
      req.write(text.slice(0, 20)); // and never the rest
      setTimeout(() => req.destroy(), 2000).unref();
    });
    expect(res.status).toBe(408);
    expect(JSON.parse(res.body).error.code).toBe('REQUEST_TIMEOUT');
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('a lying Content-Length (claims more than sent) ends at the deadline with 408', async () => {
    const port = await listen({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent: vi.fn(), readTimeoutMs: 150 });
    const res = await send(port, { 'content-type': 'application/json', 'content-length': '5000' }, (req) => {
      req.write('{"id":');
      setTimeout(() => req.destroy(), 2000).unref();
    });
    expect(res.status).toBe(408);
  });

  it('a declared Content-Length over the cap is refused before reading', async () => {
    const port = await listen({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent: vi.fn(), maxBodyBytes: 100 });
    const res = await send(port, { 'content-type': 'application/json', 'content-length': '1000000' }, (req) => {
      req.write('{');
      setTimeout(() => req.destroy(), 2000).unref();
    });
    expect(res.status).toBe(413);
  });

  it('plain node:http: a bug once the body arrived (a throwing aad function) answers 500 HANDLER_FAILED without its message', async () => {
    const onEvent = vi.fn();
    const aad = () => {
      throw new Error('bug with a secret-looking detail');
    };
    const port = await listen({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent, aad });
    const res = await send(port, { 'content-type': 'application/json' }, (req) => req.end(JSON.stringify(envelope())));
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body).error.code).toBe('HANDLER_FAILED');
    expect(res.body).not.toContain('secret-looking');
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('the promise the middleware returns settles once the answer is written, for a body it read itself', async () => {
    const middleware = kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent: () => undefined });
    const ended: boolean[] = [];
    const port = await serve((req, res) => {
      void middleware(req, res).then(() => ended.push(res.writableEnded));
    });
    const res = await send(port, { 'content-type': 'application/json' }, (req) => req.end(JSON.stringify(envelope())));
    expect(res.status).toBe(200);
    expect(ended).toEqual([true]);
  });

  it('plain node:http without onEvent and without next answers 500 rather than hanging', async () => {
    const port = await listen({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }) });
    const res = await send(port, { 'content-type': 'application/json' }, (req) => req.end(JSON.stringify(envelope())));
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body).error.code).toBe('HANDLER_FAILED');
  });
});
