import request from 'supertest';
import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import { createEventRouter, type KompliantEvent, type PayloadV1 } from '../../src/index.js';
import { createTestWebhook } from '../../src/testing.js';
import { KEY_ID, PATH, SECRET, createTestApp } from '../support/app.js';

const send = (eventType: string) => createTestWebhook({ secret: SECRET, keyId: KEY_ID, eventType });

describe('createEventRouter', () => {
  it('routes by event_type over HTTP: onAny first, then on(type), unknown types to onUnknown', async () => {
    const calls: string[] = [];
    const router = createEventRouter()
      .onAny((e) => void calls.push(`any:${e.event_type}`))
      .on('WORKFLOW_COMPLETED', (e) => void calls.push(`wc:${e.id}`))
      .on(['DOCUMENT_UPLOADED', 'WORKFLOW_COMPLETED'], (e) => void calls.push(`both:${e.event_type}`))
      .onUnknown((e) => void calls.push(`unknown:${e.event_type}`));
    const { app } = createTestApp({ onEvent: router.handle });
    const wc = send('WORKFLOW_COMPLETED');
    await request(app).post(PATH).send(wc).expect(200);
    await request(app).post(PATH).send(send('DOCUMENT_UPLOADED')).expect(200);
    await request(app).post(PATH).send(send('ACCOUNT.CLOSED')).expect(200);
    expect(calls).toEqual([
      'any:WORKFLOW_COMPLETED',
      `wc:${wc.id}`,
      'both:WORKFLOW_COMPLETED',
      'any:DOCUMENT_UPLOADED',
      'both:DOCUMENT_UPLOADED',
      'any:ACCOUNT.CLOSED',
      'unknown:ACCOUNT.CLOSED',
    ]);
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
    'an event_type of %s reaches only the fallback, never Object.prototype',
    async (eventType) => {
      const fallback = vi.fn();
      const router = createEventRouter().on('WORKFLOW_COMPLETED', vi.fn()).onUnknown(fallback);
      const { app } = createTestApp({ onEvent: router.handle });
      await request(app).post(PATH).send(send(eventType)).expect(200, { received: true });
      expect(fallback).toHaveBeenCalledTimes(1);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );

  it('a handler registered under __proto__ runs only for that exact type', async () => {
    const proto = vi.fn();
    const router = createEventRouter().on('__proto__', proto);
    await router.handle({ ...send('constructor'), data: {} } as unknown as KompliantEvent, undefined);
    expect(proto).not.toHaveBeenCalled();
    await router.handle({ ...send('__proto__'), data: {} } as unknown as KompliantEvent, undefined);
    expect(proto).toHaveBeenCalledTimes(1);
  });

  it('a throwing handler fails the delivery (500) and stops later handlers', async () => {
    const later = vi.fn();
    const router = createEventRouter()
      .on('WORKFLOW_COMPLETED', () => {
        throw new Error('nope');
      })
      .onAny(later);
    const { app } = createTestApp({ onEvent: router.handle });
    const res = await request(app).post(PATH).send(send('WORKFLOW_COMPLETED'));
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('HANDLER_FAILED');
    expect(later).toHaveBeenCalledTimes(1); // onAny runs before typed handlers
  });

  it('an event with no handler at all is acknowledged', async () => {
    const { app } = createTestApp({ onEvent: createEventRouter().handle });
    await request(app).post(PATH).send(send('WORKFLOW_COMPLETED')).expect(200, { received: true });
  });

  it.each([[''], ['has space'], [42], [[]], ['x'.repeat(129)]])('rejects the event type %j at registration', (type) => {
    expect(() => createEventRouter().on(type as string, vi.fn())).toThrow(TypeError);
  });

  it('rejects a non-function handler', () => {
    expect(() => createEventRouter().on('A', 'nope' as never)).toThrow(TypeError);
    expect(() => createEventRouter().onAny(undefined as never)).toThrow(TypeError);
    expect(() => createEventRouter().onUnknown(null as never)).toThrow(TypeError);
  });

  it('narrows the event by its literal type', () => {
    createEventRouter().on('WORKFLOW_COMPLETED', (event) => {
      expectTypeOf(event.event_type).toEqualTypeOf<'WORKFLOW_COMPLETED'>();
      expectTypeOf(event.data).toEqualTypeOf<PayloadV1>();
    });
    createEventRouter().on(['DOCUMENT_UPLOADED', 'X'], (event) => {
      expectTypeOf(event.event_type).toEqualTypeOf<'DOCUMENT_UPLOADED' | 'X'>();
    });
  });
});
