import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { kompliantWebhook, memoryKeyStore } from '../../src/index.js';
import { createHttpHandler } from '../../src/http/handler.js';
import type { HttpRequestHead } from '../../src/http/request.js';
import { createTestWebhook } from '../../src/testing.js';
import type { KompliantEnvelope, KompliantEvent } from '../../src/wire/event.js';
import { KEY_ID, PATH, SECRET } from '../support/app.js';

// fast-check fuzzing of raw bodies and envelopes: most runs straight through the
// framework-neutral handler every adapter wraps, a smaller share over HTTP. 10 000 runs in all.
// Properties: never a throw, never a 5xx, and the handler only ever sees an event whose
// authenticated fields and ciphertext are exactly those of a genuinely sealed envelope.

const BASE: KompliantEnvelope = createTestWebhook({ secret: SECRET, keyId: KEY_ID, id: 'wh_fuzz_base' });
const AUTHENTICATED = ['id', 'event_type', 'timestamp', 'account_id', 'schema_version', 'key_id', 'data'] as const;
const FIELDS = [...AUTHENTICATED, 'retry_count', '__proto__', 'constructor', 'extra'];
const CLIENT_ERRORS = new Set([400, 401, 413, 415]);

const onEvent = vi.fn();
const handler = createHttpHandler<undefined>(
  // `accounts`: a mutated account_id is refused before the store (401), not a new cache entry
  // that would spend the lookup budget (503).
  { keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), accounts: [BASE.account_id], onEvent, idempotency: false, maxBodyBytes: 16 * 1024 },
  'fuzz',
);

function head(contentType = 'application/json'): HttpRequestHead {
  const headers = new Map([['content-type', contentType], ['content-length', '1']]);
  return { method: 'POST', header: (name) => headers.get(name), ip: '127.0.0.1' };
}

/** The handler saw only the genuine envelope's authenticated content. */
function expectOnlyGenuineEvents(): void {
  for (const [event] of onEvent.mock.calls as [KompliantEvent][]) {
    for (const field of AUTHENTICATED) if (field !== 'data') expect(event[field]).toBe(BASE[field]);
  }
}

async function handleBody(body: unknown, contentType?: string): Promise<number> {
  const result = await handler.handle(head(contentType), () => Promise.resolve(body), undefined);
  expect(result.kind).toBe('answer');
  if (result.kind !== 'answer') return 0;
  return result.answer.status;
}

// A value of any JSON shape, including the strings that look most like valid fields.
const nearValue = fc.oneof(
  fc.jsonValue(),
  fc.string(),
  fc.constantFrom(...AUTHENTICATED.map((f) => BASE[f]), 'whk_20251121_02', 'whk_20251121_01\n', '__proto__', '', 'A'.repeat(40)),
  fc.integer(),
  fc.double(),
);
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), field: fc.constantFrom(...FIELDS), value: nearValue }),
  fc.record({ kind: fc.constant('delete' as const), field: fc.constantFrom(...FIELDS) }),
  fc.record({ kind: fc.constant('flip' as const), index: fc.nat({ max: BASE.data.length - 1 }), char: fc.constantFrom(...'ABab01+/='.split('')) }),
);
const mutatedEnvelope = fc.array(mutation, { minLength: 1, maxLength: 4 }).map((mutations) => {
  const envelope: Record<string, unknown> = { ...BASE };
  for (const m of mutations) {
    if (m.kind === 'set') Object.defineProperty(envelope, m.field, { value: m.value, enumerable: true, configurable: true, writable: true });
    else if (m.kind === 'delete') delete envelope[m.field];
    else if (typeof envelope.data === 'string') envelope.data = envelope.data.slice(0, m.index) + m.char + envelope.data.slice(m.index + 1);
  }
  return envelope;
});
const rawBody = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
  fc.string({ maxLength: 512 }),
  fc.string({ unit: 'binary', maxLength: 256 }),
  fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.concat([Buffer.from(JSON.stringify(BASE).slice(0, 100)), Buffer.from(b)])),
);

describe('fuzzing through the framework-neutral handler', () => {
  it('raw bodies (3 000 runs): client errors only, handler never called', async () => {
    onEvent.mockClear();
    await fc.assert(
      fc.asyncProperty(rawBody, async (body) => {
        expect(CLIENT_ERRORS.has(await handleBody(body))).toBe(true);
      }),
      { numRuns: 3000 },
    );
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('mutated envelopes as text and as parsed objects (4 000 runs): no 5xx, only genuine events handled', async () => {
    onEvent.mockClear();
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(mutatedEnvelope, fc.boolean(), async (envelope, parsed) => {
        const status = await handleBody(parsed ? envelope : JSON.stringify(envelope));
        if (status === 200) accepted++;
        else expect(CLIENT_ERRORS.has(status)).toBe(true);
      }),
      { numRuns: 4000 },
    );
    console.info(`fuzz (handler): ${accepted} of 4000 mutated envelopes still authentic and handled`);
    expect(onEvent).toHaveBeenCalledTimes(accepted);
    expectOnlyGenuineEvents();
  });

  it('arbitrary objects with envelope-like keys (2 000 runs): client errors only', async () => {
    onEvent.mockClear();
    const envelopeLike = fc.dictionary(fc.constantFrom(...FIELDS, 'retry', 'KEY_ID'), nearValue);
    await fc.assert(
      fc.asyncProperty(envelopeLike, fc.constantFrom('application/json', 'application/cloudevents+json', 'text/plain'), async (body, type) => {
        expect(CLIENT_ERRORS.has(await handleBody(JSON.stringify(body), type))).toBe(true);
      }),
      { numRuns: 2000 },
    );
    expectOnlyGenuineEvents();
  });
});

describe('fuzzing over HTTP (1 000 runs)', () => {
  let server: Server;
  let url = '';
  const httpEvent = vi.fn();
  beforeAll(async () => {
    const app = express();
    app.use(PATH, kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), accounts: [BASE.account_id], onEvent: httpEvent, idempotency: false, maxBodyBytes: 16 * 1024 }));
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('raw bodies and mutated envelopes: no 5xx, only genuine events reach the handler', async () => {
    let accepted = 0;
    const body = fc.oneof(rawBody, mutatedEnvelope.map((e) => JSON.stringify(e)));
    await fc.assert(
      fc.asyncProperty(body, async (payload) => {
        const res = await request(url)
          .post(PATH)
          .set('content-type', 'application/json')
          .serialize((data: unknown) => data as string)
          .send(payload as string);
        if (res.status === 200) accepted++;
        else expect(CLIENT_ERRORS.has(res.status)).toBe(true);
      }),
      { numRuns: 1000 },
    );
    console.info(`fuzz (HTTP): ${accepted} of 1000 bodies still authentic and handled`);
    expect(httpEvent).toHaveBeenCalledTimes(accepted);
    for (const [event] of httpEvent.mock.calls as [KompliantEvent][]) {
      for (const field of AUTHENTICATED) if (field !== 'data') expect(event[field]).toBe(BASE[field]);
    }
  });
});
