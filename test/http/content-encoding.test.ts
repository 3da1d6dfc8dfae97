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

describe('what a refused coded body is told, and what inflating may hold', () => {
  const keyStore = memoryKeyStore({ [KEY_ID]: SECRET });
  const lambda = (encoding: string, bytes: Uint8Array, maxBodyBytes?: number) =>
    createLambdaHandler({ keyStore, onEvent() {}, ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }) })(
      httpApiEvent({ method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': encoding }, body: bytes }),
    );
  const error = async (encoding: string, bytes: Uint8Array) => {
    const result = await lambda(encoding, bytes);
    return { status: result.statusCode, ...(JSON.parse(result.body) as { error: { code: string; message: string } }).error };
  };
  const notCoded = (coding: string) => `Request body is not ${coding} data as its Content-Encoding says`;
  const corrupt = 'Request body could not be decompressed';

  // Bytes that are not what the coding says, told apart from compressed data that is damaged: the
  // first is a sender that forgot to compress, the second a broken transfer.
  it.each([
    ['gzip', [0x00, 0x8b, 0x08, 0x00], notCoded('gzip')], // second magic byte only
    ['gzip', [0x1f, 0x00, 0x08, 0x00], notCoded('gzip')], // first magic byte only
    ['gzip', [0x1f], notCoded('gzip')],
    ['gzip', [0x1f, 0x8b], corrupt], // the magic alone: gzip, cut short
    ['x-gzip', [0x7b, 0x7d], notCoded('gzip')],
    ['deflate', [0x79, 0x18, 0x00], notCoded('deflate')], // header checksum right, method 9 (not deflate)
    ['deflate', [0x78, 0x00, 0x00], notCoded('deflate')], // method 8, header checksum wrong
    ['deflate', [0xf8], notCoded('deflate')], // one byte: method 8, and 0xf8 * 256 is a multiple of 31
    ['deflate', [0x78, 0x9c], corrupt], // a zlib header alone: deflate, cut short
    ['gzip', [...gzipSync(body()).subarray(0, 30)], corrupt],
    ['deflate', [...deflateSync(body()).subarray(0, 30)], corrupt],
  ] as const)('%s on bytes %j: 400 INVALID_JSON, %s', async (encoding, bytes, message) => {
    expect(await error(encoding, Uint8Array.from(bytes))).toEqual({ status: 400, code: 'INVALID_JSON', message });
  });

  it('an unsupported coding is 415 naming Content-Encoding, not Content-Type', async () => {
    expect(await error('br', body())).toEqual({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Content-Encoding is not supported' });
  });

  it('a coding with spaces around it, and an empty Content-Encoding, are accepted (Lambda passes header values as sent)', async () => {
    expect((await lambda(' gzip ', gzipSync(body()))).statusCode).toBe(200);
    expect((await lambda('', body())).statusCode).toBe(200);
  });

  it('a coded request without a body is refused as a missing body, not as data that is not gzip', async () => {
    const { app } = createTestApp({ parser: 'none' });
    const res = await request(app).post(PATH).set('content-type', 'application/json').set('content-encoding', 'gzip');
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code: 'INVALID_JSON', message: 'Request body is not a JSON object' });
  });

  it('a gzip bomb is cut at maxBodyBytes of output: inflating never holds much more than the cap', async () => {
    // 64 MiB of zeros as eight gzip members (a receiver must inflate them all): 64 KiB on the wire.
    const member = gzipSync(Buffer.alloc(8 * 1024 * 1024));
    const bomb = Buffer.concat(Array.from({ length: 8 }, () => member));
    const maxBodyBytes = 256 * 1024;
    expect(bomb.length).toBeLessThan(maxBodyBytes);
    // Sample the memory outside the JS heap (where inflated chunks live) on every turn of the event loop.
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    let sampling = true;
    const sample = (): void => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
      if (sampling) setImmediate(sample);
    };
    sample();
    const result = await lambda('gzip', bomb, maxBodyBytes).finally(() => (sampling = false));
    expect(result.statusCode).toBe(413);
    expect(peak).toBeLessThan(16 * 1024 * 1024);
  });
});
