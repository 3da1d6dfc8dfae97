import { describe, expect, it } from 'vitest';
import { memoryKeyStore, type DataLayoutName, type KeyStore, type KompliantEvent, type WebhookError } from '../../src/index.js';
import { loadEnvelopeVectors } from './vectors.js';

/** One HTTP request as a sender would make it, independent of any runtime. */
export interface TableRequest {
  method: string;
  /** Lower-case header names. Content-Length is added by the runtime (or the adapter's driver). */
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** What came back, normalised: status, lower-case headers, parsed JSON body. */
export interface TableResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** The options every adapter driver builds its app from. */
export interface TableAppOptions {
  keyStore: KeyStore;
  maxBodyBytes?: number;
  onEvent: (event: KompliantEvent, context: unknown) => unknown;
  onError: (error: WebhookError, context: unknown) => void;
  layout?: DataLayoutName;
}

/** An adapter under test: builds an app through the adapter's public API and sends one request. */
export interface AdapterDriver {
  name: string;
  create(options: TableAppOptions): Promise<(request: TableRequest) => Promise<TableResponse>>;
  /** True when `context` is what this adapter promises hooks (Express req, Fetch Request, ...). */
  isContext(context: unknown): boolean;
}

/** One row: a request, the app's configuration and the answer every adapter must give. */
export interface TableRow {
  name: string;
  request: TableRequest;
  maxBodyBytes?: number;
  handlerThrows?: boolean;
  expect: { status: number; code?: string; event?: Record<string, unknown>; headers?: Record<string, string> };
}

export const WEBHOOK_PATH = '/webhooks/kompliant';

const vectors = loadEnvelopeVectors();
const validVector = vectors.cases.find((c) => c.expect.status === 200);
if (validVector === undefined) throw new Error('envelopes.json has no valid case');
const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * The shared expectations: every case of test/fixtures/vectors/envelopes.json, then the HTTP cases
 * (405, 415, 413, empty body, handler failure). Every adapter must give exactly these answers.
 */
export const ADAPTER_TABLE: readonly TableRow[] = [
  ...vectors.cases.map((c) => ({
    name: `vector: ${c.name}`,
    request: { method: 'POST', headers: JSON_HEADERS, body: c.body },
    expect: c.expect,
  })),
  {
    name: 'http: GET is 405 with Allow: POST',
    request: { method: 'GET', headers: {} },
    expect: { status: 405, code: 'METHOD_NOT_ALLOWED', headers: { allow: 'POST' } },
  },
  {
    name: 'http: PUT with a valid envelope is 405',
    request: { method: 'PUT', headers: JSON_HEADERS, body: validVector.body },
    expect: { status: 405, code: 'METHOD_NOT_ALLOWED', headers: { allow: 'POST' } },
  },
  {
    name: 'http: text/plain body is 415',
    request: { method: 'POST', headers: { 'content-type': 'text/plain' }, body: validVector.body },
    expect: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  },
  {
    name: 'http: JSON in latin1 is 415',
    request: { method: 'POST', headers: { 'content-type': 'application/json; charset=latin1' }, body: validVector.body },
    expect: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  },
  {
    name: 'http: body over maxBodyBytes is 413',
    maxBodyBytes: 256,
    request: { method: 'POST', headers: JSON_HEADERS, body: validVector.body },
    expect: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  },
  {
    name: 'http: body exactly at maxBodyBytes is accepted',
    maxBodyBytes: Buffer.byteLength(validVector.body),
    request: { method: 'POST', headers: JSON_HEADERS, body: validVector.body },
    expect: validVector.expect,
  },
  {
    name: 'http: empty JSON body is 400 INVALID_JSON',
    request: { method: 'POST', headers: JSON_HEADERS, body: '' },
    expect: { status: 400, code: 'INVALID_JSON' },
  },
  {
    name: 'http: JSON array body is 400 INVALID_JSON',
    request: { method: 'POST', headers: JSON_HEADERS, body: '[1,2]' },
    expect: { status: 400, code: 'INVALID_JSON' },
  },
  {
    name: 'http: handler failure is 500 HANDLER_FAILED',
    handlerThrows: true,
    request: { method: 'POST', headers: JSON_HEADERS, body: validVector.body },
    expect: { status: 500, code: 'HANDLER_FAILED' },
  },
];

/** Runs {@link ADAPTER_TABLE} through one adapter driver. */
export function runAdapterTable(driver: AdapterDriver): void {
  describe(`${driver.name}: shared adapter expectations`, () => {
    it('covers every envelope vector and the HTTP cases', () => {
      expect(ADAPTER_TABLE.length).toBe(vectors.cases.length + 9);
    });

    it.each(ADAPTER_TABLE.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
      const events: Array<[KompliantEvent, unknown]> = [];
      const errors: Array<[WebhookError, unknown]> = [];
      const send = await driver.create({
        keyStore: memoryKeyStore(vectors.keys),
        ...(row.maxBodyBytes === undefined ? {} : { maxBodyBytes: row.maxBodyBytes }),
        onEvent(event, context) {
          events.push([event, context]);
          if (row.handlerThrows) throw new Error('handler exploded');
        },
        onError(error, context) {
          errors.push([error, context]);
        },
      });
      const res = await send(row.request);

      expect(res.status).toBe(row.expect.status);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      for (const [name, value] of Object.entries(row.expect.headers ?? {})) expect(res.headers[name]).toBe(value);
      if (row.expect.status === 200) {
        expect(res.body).toEqual({ received: true });
        expect(events).toHaveLength(1);
        expect(events[0]?.[0]).toStrictEqual(row.expect.event);
        expect(driver.isContext(events[0]?.[1])).toBe(true);
        expect(errors).toHaveLength(0);
        return;
      }
      expect(res.body).toEqual({ error: { code: row.expect.code, message: expect.any(String) } });
      expect(errors.map(([error]) => error.code)).toEqual([row.expect.code]);
      expect(driver.isContext(errors[0]?.[1])).toBe(true);
      expect(events).toHaveLength(row.handlerThrows ? 1 : 0);
      // Nothing secret in an answer: no key, no ciphertext.
      const text = JSON.stringify(res.body);
      for (const secret of Object.values(vectors.keys)) expect(text).not.toContain(secret);
      if (typeof row.request.body === 'string' && row.request.body !== '') expect(text).not.toContain(row.request.body.slice(-40));
    });
  });
}
