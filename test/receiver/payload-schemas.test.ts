// The `schemas` option with real zod, valibot and arktype schemas: 400 INVALID_PAYLOAD naming paths (never values), async schemas, deadlines, and data typed from the schema.
import { type } from 'arktype';
import express from 'express';
import request from 'supertest';
import * as v from 'valibot';
import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import { z } from 'zod';
import {
  createEventRouter,
  createWebhookReceiver,
  isWebhookError,
  kompliantWebhook,
  memoryKeyStore,
  type KompliantEvent,
  type PayloadV1,
  type SchemaEvent,
  type StandardSchemaV1,
  type WebhookError,
  type WorkflowEventData,
} from '../../src/index.js';
import { createFetchHandler } from '../../src/fetch.js';
import { createTestWebhook, generateSharedSecret, samplePayload } from '../../src/testing.js';

const KEY_ID = 'whk_20251121_01';
const SECRET = generateSharedSecret();
const keyStore = memoryKeyStore({ [KEY_ID]: SECRET });
const VALUE_MARKER = 'VALUE-MARKER-5d21';

const base = samplePayload();
const zodWorkflow = z.object({
  version: z.literal('1.0'),
  subject_record_id: z.string().min(3),
  user_context: z.object({ user_id: z.string(), user_type: z.string() }),
  amount_cents: z.number().int().transform((cents) => cents / 100),
});
const valibotDocument = v.object({
  subject_record_id: v.pipe(v.string(), v.minLength(3)),
  documents: v.array(v.object({ name: v.string(), size: v.number() })),
});
const arktypeWorkflow = type({ subject_record_id: 'string >= 3', score: 'number > 0' });

async function receiveWith(schemas: Record<string, StandardSchemaV1>, eventType: string, data: unknown) {
  const receiver = createWebhookReceiver({ keyStore, schemas });
  return receiver.receive(createTestWebhook({ secret: SECRET, keyId: KEY_ID, eventType, data: data as PayloadV1 }));
}

async function rejection(promise: Promise<unknown>): Promise<WebhookError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isWebhookError(error)) throw new Error(`expected a WebhookError, got ${String(error)}`);
  return error;
}

describe('schemas: real validators', () => {
  it('zod: a valid payload reaches the handler as the schema output (transform applied)', async () => {
    const event = await receiveWith({ WORKFLOW_COMPLETED: zodWorkflow }, 'WORKFLOW_COMPLETED', { ...base, amount_cents: 1250 });
    expect(event.data).toMatchObject({ subject_record_id: base.subject_record_id, amount_cents: 12.5 });
  });

  it('zod: a failing payload is 400 INVALID_PAYLOAD naming each failing path, never a value', async () => {
    const data = { ...base, subject_record_id: 'x', user_context: { user_id: 42, user_type: VALUE_MARKER }, amount_cents: VALUE_MARKER };
    const error = await rejection(receiveWith({ WORKFLOW_COMPLETED: zodWorkflow }, 'WORKFLOW_COMPLETED', data));
    expect(error.code).toBe('INVALID_PAYLOAD');
    expect(error.status).toBe(400);
    expect(error.message).toBe('Payload does not match the WORKFLOW_COMPLETED schema at: subject_record_id, user_context.user_id, amount_cents');
    expect(JSON.stringify({ message: error.message, cause: String(error.cause) })).not.toContain(VALUE_MARKER);
  });

  it('valibot: array paths as [index], and the values stay out', async () => {
    const schemas = { DOCUMENT_UPLOADED: valibotDocument };
    const ok = await receiveWith(schemas, 'DOCUMENT_UPLOADED', { subject_record_id: 'sr_1', documents: [{ name: 'a.pdf', size: 3 }] });
    expect(ok.data).toEqual({ subject_record_id: 'sr_1', documents: [{ name: 'a.pdf', size: 3 }] });
    const error = await rejection(
      receiveWith(schemas, 'DOCUMENT_UPLOADED', { subject_record_id: 'sr_1', documents: [{ name: 'a.pdf', size: 3 }, { name: 7, size: VALUE_MARKER }] }),
    );
    expect(error.message).toBe('Payload does not match the DOCUMENT_UPLOADED schema at: documents[1].name, documents[1].size');
    expect(error.message).not.toContain(VALUE_MARKER);
  });

  it('arktype: its issue messages quote values; only the paths are kept', async () => {
    const schemas = { WORKFLOW_COMPLETED: arktypeWorkflow };
    expect((await receiveWith(schemas, 'WORKFLOW_COMPLETED', { subject_record_id: 'sr_1', score: 2 })).data).toEqual({ subject_record_id: 'sr_1', score: 2 });
    const error = await rejection(receiveWith(schemas, 'WORKFLOW_COMPLETED', { subject_record_id: VALUE_MARKER.slice(0, 2), score: -7 }));
    expect(error.code).toBe('INVALID_PAYLOAD');
    expect(error.message).toMatch(/at: (subject_record_id, score|score, subject_record_id)$/);
    expect(error.message).not.toContain('VA');
    expect(error.message).not.toContain('-7');
  });

  it('a root-level failure is named (root)', async () => {
    const error = await rejection(receiveWith({ WORKFLOW_COMPLETED: z.array(z.string()) }, 'WORKFLOW_COMPLETED', base));
    expect(error.message).toBe('Payload does not match the WORKFLOW_COMPLETED schema at: (root)');
  });

  it('event types without a schema pass unvalidated', async () => {
    const event = await receiveWith({ WORKFLOW_COMPLETED: zodWorkflow }, 'DOCUMENT_UPLOADED', { anything: VALUE_MARKER });
    expect(event.data).toEqual({ anything: VALUE_MARKER });
  });

  it('an async schema (zod async refine) is awaited, both ways', async () => {
    const slowCheck = z.object({ subject_record_id: z.string() }).refine(async (data) => {
      await new Promise((resolve) => setImmediate(resolve));
      return data.subject_record_id.startsWith('sr_');
    });
    const result = slowCheck['~standard'].validate({ subject_record_id: 'sr_1' });
    expect(result).toBeInstanceOf(Promise);
    await expect(receiveWith({ WORKFLOW_COMPLETED: slowCheck }, 'WORKFLOW_COMPLETED', { subject_record_id: 'sr_1' })).resolves.toBeDefined();
    const error = await rejection(receiveWith({ WORKFLOW_COMPLETED: slowCheck }, 'WORKFLOW_COMPLETED', { subject_record_id: 'nope' }));
    expect(error.code).toBe('INVALID_PAYLOAD');
  });
});

describe('schemas: every entry point, failures and deadlines', () => {
  const schemas = { WORKFLOW_COMPLETED: zodWorkflow };
  const bad = () => createTestWebhook({ secret: SECRET, keyId: KEY_ID, data: { ...base, amount_cents: VALUE_MARKER } as never });
  const good = () => createTestWebhook({ secret: SECRET, keyId: KEY_ID, data: { ...base, amount_cents: 700 } as never });

  it('Express: 400 INVALID_PAYLOAD, handler not called, onError told; the valid one is handled with the output', async () => {
    const onEvent = vi.fn();
    const onError = vi.fn();
    const app = express();
    app.post('/hook', kompliantWebhook({ keyStore, schemas, onEvent, onError }));
    const response = await request(app).post('/hook').send(bad()).expect(400);
    expect(response.body).toEqual({ error: { code: 'INVALID_PAYLOAD', message: 'Payload does not match the WORKFLOW_COMPLETED schema at: amount_cents' } });
    expect(onEvent).not.toHaveBeenCalled();
    expect(onError).toHaveBeenCalledOnce();
    await request(app).post('/hook').send(good()).expect(200);
    expect(onEvent.mock.calls[0]![0].data.amount_cents).toBe(7);
  });

  it('a refused payload does not hold its id: a retry of the same id is checked again (400 again, not a duplicate)', async () => {
    const receiver = createWebhookReceiver({ keyStore, schemas });
    const envelope = bad();
    const handler = vi.fn();
    expect((await rejection(receiver.handle(envelope, handler))).code).toBe('INVALID_PAYLOAD');
    expect((await rejection(receiver.handle(envelope, handler))).code).toBe('INVALID_PAYLOAD');
    expect(handler).not.toHaveBeenCalled();
  });

  it('Fetch adapter validates too', async () => {
    const handler = createFetchHandler({ keyStore, schemas, onEvent: () => undefined });
    const post = (body: unknown) => handler(new Request('http://localhost/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
    expect((await post(bad())).status).toBe(400);
    expect((await post(good())).status).toBe(200);
  });

  it('a schema that throws is 500 HANDLER_FAILED (the sender retries once it is fixed)', async () => {
    const throwing: StandardSchemaV1 = { '~standard': { version: 1, vendor: 'test', validate: () => { throw new Error(VALUE_MARKER); } } };
    const error = await rejection(receiveWith({ WORKFLOW_COMPLETED: throwing }, 'WORKFLOW_COMPLETED', base));
    expect(error.code).toBe('HANDLER_FAILED');
    expect(error.message).toBe('Payload schema threw');
    expect((error.cause as Error).message).toBe(VALUE_MARKER);
  });

  it('an async schema that rejects is 500 HANDLER_FAILED too, the rejection as its cause', async () => {
    const rejecting: StandardSchemaV1 = { '~standard': { version: 1, vendor: 'test', validate: () => Promise.reject(new Error(VALUE_MARKER)) } };
    const error = await rejection(receiveWith({ WORKFLOW_COMPLETED: rejecting }, 'WORKFLOW_COMPLETED', base));
    expect(error.code).toBe('HANDLER_FAILED');
    expect(error.message).toBe('Payload schema threw');
    expect((error.cause as Error).message).toBe(VALUE_MARKER);
  });

  it('an async schema that never settles is 503 HANDLER_TIMEOUT after handlerTimeoutMs', async () => {
    const hanging: StandardSchemaV1 = { '~standard': { version: 1, vendor: 'test', validate: () => new Promise(() => undefined) } };
    const receiver = createWebhookReceiver({ keyStore, schemas: { WORKFLOW_COMPLETED: hanging }, handlerTimeoutMs: 20 });
    const error = await rejection(receiver.handle(createTestWebhook({ secret: SECRET, keyId: KEY_ID }), () => undefined));
    expect(error.code).toBe('HANDLER_TIMEOUT');
    expect(error.message).toBe('Payload schema did not finish in time');
  });

  it('checks the option: not a Standard Schema, or not an object, is a TypeError naming it', () => {
    expect(() => createWebhookReceiver({ keyStore, schemas: { WORKFLOW_COMPLETED: {} as never } })).toThrow(/schemas\.WORKFLOW_COMPLETED must be a Standard Schema/);
    expect(() => createWebhookReceiver({ keyStore, schemas: [] as never })).toThrow(/schemas must be an object/);
    expect(() => kompliantWebhook({ keyStore, schemas: 'zod' as never })).toThrow(/schemas must be an object/);
    expect(() => createEventRouter({ schemas: { X: 1 } as never })).toThrow(/schemas\.X/);
    expect(() => createEventRouter({ schemas: {}, extra: 1 } as never)).toThrow(/unknown option "extra"/);
  });

  it('an event type named like an Object.prototype member finds no inherited schema', async () => {
    const event = await receiveWith({ WORKFLOW_COMPLETED: zodWorkflow }, 'constructor', { a: 1 }).catch((e: unknown) => e);
    expect(isWebhookError(event) ? event.code : 'passed').not.toBe('HANDLER_FAILED');
  });
});

describe('schemas: data typed from the schema', () => {
  const schemas = { WORKFLOW_COMPLETED: zodWorkflow, DOCUMENT_UPLOADED: valibotDocument };
  type Schemas = typeof schemas;

  it('onEvent (Express, Fetch), receiver.handle and the router infer data from the schemas', () => {
    kompliantWebhook({
      keyStore,
      schemas,
      onEvent(event) {
        expectTypeOf(event).toEqualTypeOf<SchemaEvent<Schemas>>();
      },
    });
    createFetchHandler({ keyStore, schemas: { WORKFLOW_COMPLETED: arktypeWorkflow }, onEvent: (event) => expectTypeOf(event).toEqualTypeOf<SchemaEvent<{ WORKFLOW_COMPLETED: typeof arktypeWorkflow }>>() });
    expectTypeOf<Extract<SchemaEvent<Schemas>, { event_type: 'WORKFLOW_COMPLETED' }>['data']>().toEqualTypeOf<z.output<typeof zodWorkflow>>();
    expectTypeOf<Extract<SchemaEvent<Schemas>, { event_type: 'WORKFLOW_COMPLETED' }>['data']['amount_cents']>().toEqualTypeOf<number>();
    expectTypeOf<Extract<SchemaEvent<Schemas>, { event_type: 'DOCUMENT_UPLOADED' }>['data']>().toEqualTypeOf<v.InferOutput<typeof valibotDocument>>();

    const receiver = createWebhookReceiver({ keyStore, schemas });
    void receiver.handle({}, (event) => expectTypeOf(event).toEqualTypeOf<SchemaEvent<Schemas>>()).catch(() => undefined);
    // An explicit type argument still works as before.
    void receiver.handle<{ custom: true }>({}, (event) => expectTypeOf(event.data).toEqualTypeOf<{ custom: true }>()).catch(() => undefined);

    createEventRouter({ schemas })
      .on('WORKFLOW_COMPLETED', (event) => expectTypeOf(event.data).toEqualTypeOf<z.output<typeof zodWorkflow>>())
      .on('DOCUMENT_UPLOADED', (event) => expectTypeOf(event.data.documents).toEqualTypeOf<{ name: string; size: number }[]>())
      .on('SOMETHING_ELSE', (event) => expectTypeOf(event.data).toEqualTypeOf<PayloadV1>());
    createEventRouter({ schemas: { WORKFLOW_COMPLETED: arktypeWorkflow } }).on('WORKFLOW_COMPLETED', (event) =>
      expectTypeOf(event.data).toEqualTypeOf<{ subject_record_id: string; score: number }>(),
    );
  });

  it('without schemas: KompliantEvent (the documented types and UnknownKompliantEvent)', () => {
    kompliantWebhook({ keyStore, onEvent: (event) => expectTypeOf(event).toEqualTypeOf<KompliantEvent>() });
    void createWebhookReceiver({ keyStore }).handle({}, (event) => expectTypeOf(event).toEqualTypeOf<KompliantEvent>()).catch(() => undefined);
    createEventRouter().on('WORKFLOW_COMPLETED', (event) => expectTypeOf(event.data).toEqualTypeOf<WorkflowEventData>());
    createEventRouter().on('DOCUMENT_UPLOADED', (event) => expectTypeOf(event.data).toEqualTypeOf<PayloadV1>());
  });

  it('router.schemas hands the same schemas to the entry point, which validates', async () => {
    const router = createEventRouter({ schemas });
    const seen = vi.fn();
    router.on('WORKFLOW_COMPLETED', (event) => seen(event.data.amount_cents));
    const receiver = createWebhookReceiver({ keyStore, schemas: router.schemas });
    await receiver.handle(createTestWebhook({ secret: SECRET, keyId: KEY_ID, data: { ...base, amount_cents: 300 } as never }), (event) => router.handle(event, undefined));
    expect(seen).toHaveBeenCalledWith(3);
    const app = express();
    app.post('/hook', kompliantWebhook({ keyStore, schemas: router.schemas, onEvent: router.handle }));
    await request(app).post('/hook').send(createTestWebhook({ secret: SECRET, keyId: KEY_ID, data: { ...base, amount_cents: 'x' } as never })).expect(400);
    await request(app).post('/hook').send(createTestWebhook({ secret: SECRET, keyId: KEY_ID, data: { ...base, amount_cents: 900 } as never })).expect(200);
    expect(seen).toHaveBeenLastCalledWith(9);
  });
});
