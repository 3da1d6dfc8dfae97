// Which body the receiver reads: a body of exactly maxBodyBytes is read, and a `req.body` some
// middleware set without reading the stream does not hide the body still on the wire.
import express from 'express';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { kompliantWebhook, memoryKeyStore } from '../../src/index.js';
import { createFetchHandler } from '../../src/fetch.js';
import { createTestWebhook } from '../../src/testing.js';
import { KEY_ID, PATH, SECRET } from '../support/app.js';

const keyStore = memoryKeyStore({ [KEY_ID]: SECRET });

describe('body framing', () => {
  it('Fetch: a declared Content-Length of exactly maxBodyBytes is read and accepted', async () => {
    const body = JSON.stringify(createTestWebhook({ secret: SECRET, keyId: KEY_ID }));
    const onEvent = vi.fn();
    const handler = createFetchHandler({ keyStore, onEvent, maxBodyBytes: Buffer.byteLength(body), logger: false });
    const res = await handler(
      new Request(`http://localhost${PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
        body,
      }),
    );
    expect(res.status).toBe(200);
    expect(onEvent).toHaveBeenCalledTimes(1);
  });

  it('node:http (Express): req.body = {} set by a middleware that did not read the stream; the body is read', async () => {
    const onEvent = vi.fn();
    const app = express();
    app.use((req, _res, next) => {
      req.body = {}; // some frameworks default req.body without parsing
      next();
    });
    app.post(PATH, kompliantWebhook({ keyStore, onEvent, logger: false }));
    const res = await request(app).post(PATH).set('content-type', 'application/json').send(JSON.stringify(createTestWebhook({ secret: SECRET, keyId: KEY_ID })));
    expect(res.status).toBe(200);
    expect(onEvent).toHaveBeenCalledTimes(1);
  });
});
