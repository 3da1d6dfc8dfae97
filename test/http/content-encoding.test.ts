import { deflateSync, gzipSync } from 'node:zlib';
import express from 'express';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { kompliantWebhook, memoryKeyStore } from '../../src/index.js';
import { createFetchHandler } from '../../src/fetch.js';
import { createLambdaHandler } from '../../src/lambda.js';
import { httpApiEvent } from '../support/lambda-events.js';
import { createTestWebhook } from '../../src/testing.js';
import { KEY_ID, PATH, SECRET, createTestApp, type BodyParser } from '../support/app.js';

const body = () => Buffer.from(JSON.stringify(createTestWebhook({ secret: SECRET, keyId: KEY_ID })));
const post = (app: express.Express, encoding: string, bytes: Buffer) =>
  request(app)
    .post(PATH)
    .set('content-type', 'application/json')
    .set('content-encoding', encoding)
    .serialize((data: unknown) => data as string) // send the bytes as they are, not JSON of a Buffer
    .send(bytes);

describe('Content-Encoding', () => {
  describe.each(['none', 'json', 'raw'] as BodyParser[])('body parser: %s', (parser) => {
    it.each([
      ['gzip', gzipSync],
      ['deflate', deflateSync],
      ['GZip', gzipSync],
      // body-parser itself answers 415 to x-gzip, so only the stream reader sees it.
      ...(parser === 'none' ? ([['x-gzip', gzipSync]] as const) : []),
    ] as const)('inflates %s and delivers the event', async (encoding, compress) => {
      const { app, onEvent } = createTestApp({ parser });
      const res = await post(app, encoding, compress(body()));
      expect(res.status).toBe(200);
      expect(onEvent).toHaveBeenCalledTimes(1);
    });
  });

  describe('a body the receiver reads itself must be what its Content-Encoding says: otherwise 400 INVALID_JSON', () => {
    const keyStore = memoryKeyStore({ [KEY_ID]: SECRET });

    it.each(['gzip', 'x-gzip', 'deflate'])('node:http / Express stream reader: %s on plain JSON', async (encoding) => {
      const { app, onEvent } = createTestApp({ parser: 'none' });
      const res = await post(app, encoding, body());
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_JSON');
      expect(onEvent).not.toHaveBeenCalled();
    });

    it.each(['gzip', 'deflate'])('Fetch: %s on plain JSON', async (encoding) => {
      const onEvent = vi.fn();
      const handle = createFetchHandler({ keyStore, onEvent });
      const headers = { 'content-type': 'application/json', 'content-encoding': encoding };
      const res = await handle(new Request('http://localhost/', { method: 'POST', headers, body: body() }));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INVALID_JSON');
      const inflated = await handle(new Request('http://localhost/', { method: 'POST', headers, body: encoding === 'gzip' ? gzipSync(body()) : deflateSync(body()) }));
      expect(inflated.status).toBe(200);
      expect(onEvent).toHaveBeenCalledTimes(1);
    });

    it.each([false, true])('Lambda: gzip on a plain JSON body (base64: %s)', async (base64) => {
      const onEvent = vi.fn();
      const handle = createLambdaHandler({ keyStore, onEvent });
      const headers = { 'content-type': 'application/json', 'content-encoding': 'gzip' };
      const result = await handle(httpApiEvent({ method: 'POST', headers, body: body().toString(), base64 }));
      expect(result.statusCode).toBe(400);
      expect(JSON.parse(result.body)).toMatchObject({ error: { code: 'INVALID_JSON' } });
      expect((await handle(httpApiEvent({ method: 'POST', headers, body: gzipSync(body()) }))).statusCode).toBe(200);
      expect(onEvent).toHaveBeenCalledTimes(1);
    });
  });

  it('a gzip bomb stops at maxBodyBytes of inflated output: 413', async () => {
    const { app, onEvent } = createTestApp({ maxBodyBytes: 64 * 1024 });
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20)); // 50 MiB of spaces, ~50 KiB compressed
    expect(bomb.length).toBeLessThan(64 * 1024);
    const res = await post(app, 'gzip', bomb);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('corrupt gzip is 400 INVALID_JSON', async () => {
    const { app } = createTestApp();
    const broken = gzipSync(body()).subarray(0, 30);
    const res = await post(app, 'gzip', broken);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_JSON');
  });

  it.each(['br', 'compress', 'zstd', 'gzip, gzip', 'deflate,gzip'])('%s is 415', async (encoding) => {
    const { app } = createTestApp();
    const res = await post(app, encoding, body());
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it("contentEncoding: 'reject' answers 415 to gzip", async () => {
    const app = express();
    app.post(PATH, kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), contentEncoding: 'reject', onEvent() {} }));
    const res = await post(app, 'gzip', gzipSync(body()));
    expect(res.status).toBe(415);
    await request(app).post(PATH).set('content-encoding', 'identity').send(body().toString()).set('content-type', 'application/json').expect(200);
  });

  it('rejects an unknown contentEncoding value at construction', () => {
    expect(() => kompliantWebhook({ keyStore: memoryKeyStore({}), contentEncoding: 'zip' as never })).toThrow(/contentEncoding/);
  });
});
