import { describe, expect, it } from 'vitest';
import {
  createWebhookReceiver,
  createWebhookStats,
  kompliantWebhook,
  memoryIdempotencyStore,
  memoryKeyStore,
} from '../../src/index.js';

const keyStore = memoryKeyStore({});
const every = {
  idempotency: memoryIdempotencyStore(),
  idempotencyLeaseMs: 60_000,
  idempotencyTtlMs: 3_600_000,
  handlerTimeoutMs: 10_000,
  maxEventAgeMs: 86_400_000,
  logger: console,
  stats: createWebhookStats(),
};

describe('delivery options', () => {
  it('the middleware and the receiver accept all of them', () => {
    expect(() => kompliantWebhook({ keyStore, ...every, allowedIps: ['10.0.0.0/8'], contentEncoding: 'reject' })).not.toThrow();
    expect(() => createWebhookReceiver({ keyStore, ...every, idempotency: false })).not.toThrow();
  });

  it.each(['idempotencyLeaseMs', 'idempotencyTtlMs', 'handlerTimeoutMs', 'maxEventAgeMs'])(
    '%s must be a positive integer (TypeError naming it)',
    (name) => {
      for (const bad of [0, -1, 2.5, '100', Number.NaN, Number.POSITIVE_INFINITY]) {
        expect(() => kompliantWebhook({ keyStore, [name]: bad })).toThrow(new RegExp(name));
        expect(() => createWebhookReceiver({ keyStore, [name]: bad })).toThrow(new RegExp(name));
      }
    },
  );

  it('the receiver refuses HTTP-only options and typos', () => {
    expect(() => createWebhookReceiver({ keyStore, allowedIps: ['10.0.0.1'] } as never)).toThrow(/unknown option "allowedIps"/);
    expect(() => createWebhookReceiver({ keyStore, idempotencyTTLMs: 5 } as never)).toThrow(/unknown option "idempotencyTTLMs"/);
  });

  it('receiver.handle refuses a missing handler', async () => {
    await expect(createWebhookReceiver({ keyStore }).handle('{}', undefined as never)).rejects.toThrow(TypeError);
  });
});
