// The body-parser claims of docs/adapters.md, checked with the real express.json() (Express 5 and 4) in front of the middleware.
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import express4 from 'express4';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { kompliantWebhook, memoryKeyStore, type KompliantWebhookOptions } from '../../src/index.js';
import { createTestWebhook } from '../../src/testing.js';
import { KEY_ID, PATH, SECRET } from '../support/app.js';

const payload = (padBytes: number) => ({
  version: '1.0',
  subject_record_id: 'sr_1',
  user_context: { user_id: 'u', user_type: 'USER' },
  pad: 'x'.repeat(padBytes),
});
const envelope = (padBytes = 0) => createTestWebhook({ secret: SECRET, keyId: KEY_ID, data: payload(padBytes) });

type Order = 'parser first' | 'webhook first';

/** An app with express.json() (default options unless given) and the webhook route in the given order. */
function appWith(order: Order, options: Partial<KompliantWebhookOptions> = {}, parser = express.json(), e: typeof express = express) {
  const onEvent = vi.fn();
  const onError = vi.fn();
  const app = e();
  // Vitest sets NODE_ENV=test, which makes Express neither log errors nor show stacks: use its default.
  app.set('env', 'development');
  const webhook = kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent, onError, logger: false, ...options });
  if (order === 'webhook first') app.post(PATH, webhook);
  app.use(parser);
  if (order === 'parser first') app.post(PATH, webhook);
  app.post('/other', (req, res) => void res.json({ parsed: typeof req.body }));
  return { app, onEvent, onError };
}

const post = (app: express.Express, body: string) => request(app).post(PATH).set('content-type', 'application/json').send(body);

describe('express.json() in front of the webhook route', () => {
  afterEach(() => vi.restoreAllMocks());

  it("its 100 kB default limit wins over maxBodyBytes: Express answers its own 413 and the middleware never runs", async () => {
    const body = JSON.stringify(envelope(150_000)); // ~200 kB of JSON: under the 1 MiB maxBodyBytes
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const first = appWith('parser first');
    const res = await post(first.app, body);
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(first.onError).not.toHaveBeenCalled();
    expect(first.onEvent).not.toHaveBeenCalled();
    // Mounted before express.json(), the same body is read by the middleware under its own limit.
    const second = appWith('webhook first');
    await post(second.app, body).expect(200, { received: true });
    expect(second.onEvent).toHaveBeenCalledTimes(1);
  });

  it('its error pages are HTML with the stack trace (unless env is production), not the JSON error', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const { app } = appWith('parser first');
    const res = await post(app, '{"id": broken');
    expect(res.status).toBe(400);
    expect(res.text).toContain('SyntaxError');
    expect(res.text).toMatch(/at JSON\.parse|node_modules/);
    app.set('env', 'production');
    const quiet = await post(app, '{"id": broken');
    expect(quiet.status).toBe(400);
    expect(quiet.text).not.toMatch(/node_modules/);
    expect(quiet.headers['content-type']).toMatch(/^text\/html/);
  });

  it('Express 5 logs a body it cannot parse in full on stderr (ciphertext included); Express 4 logs the stack', async () => {
    const logged: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void logged.push(args.map((a) => (a instanceof Error ? `${a.stack} ${JSON.stringify({ ...a })}` : String(a))).join(' ')));
    const ciphertext = envelope().data;
    const broken = `{"data":"${ciphertext}", broken`;
    await post(appWith('parser first').app, broken).expect(400);
    expect(logged.join('\n')).toContain(ciphertext);
    logged.length = 0;
    await post(appWith('parser first', {}, express4.json() as never, express4 as never).app, broken).expect(400);
    expect(logged.join('\n')).toContain('SyntaxError');
    expect(logged.join('\n')).not.toContain(ciphertext);
  });

  it('with the webhook route first, the middleware answers its JSON errors and logs nothing of the body', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { app, onError } = appWith('webhook first');
    const res = await post(app, '{"id": broken');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'INVALID_JSON', message: 'Request body is not a JSON object' } });
    expect(onError).toHaveBeenCalledTimes(1);
    expect(logged).not.toHaveBeenCalled();
    // Other routes still get express.json().
    await request(app).post('/other').send({ a: 1 }).expect(200, { parsed: 'object' });
  });

  it('a parser with a larger limit: the middleware still holds Content-Length to maxBodyBytes (413, JSON)', async () => {
    const { app, onEvent } = appWith('parser first', { maxBodyBytes: 16 * 1024 }, express.json({ limit: '10mb' }));
    const res = await post(app, JSON.stringify(envelope(32 * 1024)));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('a Buffer shorter than its Content-Length (cut short before the middleware) is refused, not parsed', async () => {
    const body = JSON.stringify(envelope());
    const onEvent = vi.fn();
    const app = express();
    app.post(
      PATH,
      (req, _res, next) => {
        // A hand-made parser that drops the last bytes (body-parser itself answers 400 for a length mismatch).
        (req as { body?: unknown }).body = Buffer.from(body.slice(0, -10));
        // body-parser marks a parsed request with _body; this stand-in parser does the same.
        // oxlint-disable-next-line no-underscore-dangle
        (req as { _body?: boolean })._body = true;
        req.resume();
        next();
      },
      kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent, logger: false }),
    );
    const res = await post(app, body);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('shorter than its Content-Length');
    expect(onEvent).not.toHaveBeenCalled();
  });

  describe('read deadline', () => {
    let server: Server | undefined;
    const apps: express.Express[] = [];
    afterEach(() => {
      for (const app of apps.splice(0)) app.set('env', 'test'); // the aborted body is not logged as the server closes
      return new Promise<void>((resolve) => (server ? (server.closeAllConnections(), server.close(() => resolve())) : resolve()));
    });

    /** Sends headers and half the body, then waits; resolves the status, or 'no answer' after `waitMs`. */
    async function halfBody(app: express.Express, waitMs: number): Promise<number | 'no answer'> {
      apps.push(app);
      const listening = app.listen(0, '127.0.0.1');
      server = listening;
      await new Promise((resolve) => listening.once('listening', resolve));
      const { port } = listening.address() as AddressInfo;
      const body = JSON.stringify(envelope());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve('no answer'), waitMs);
        const req = httpRequest(
          { host: '127.0.0.1', port, path: PATH, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(body.length) } },
          (res) => {
            clearTimeout(timer);
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', (error) => (timer.hasRef() ? reject(error) : undefined));
        req.write(body.slice(0, 100));
      });
    }

    it('express.json() has none: a half-sent body holds the request open past readTimeoutMs; the middleware answers 408', async () => {
      const readTimeoutMs = 100;
      expect(await halfBody(appWith('webhook first', { readTimeoutMs }).app, 10_000)).toBe(408);
      // 20 times readTimeoutMs later, still no answer with the parser in front.
      expect(await halfBody(appWith('parser first', { readTimeoutMs }).app, 2_000)).toBe('no answer');
    }, 20_000);
  });
});
