import { describe, expect, it } from 'vitest';
import { demo as fastifyDemo } from '../../examples/fastify.js';
import { demo as fetchDemo } from '../../examples/fetch-hono.js';
import { demo as lambdaDemo, handled as lambdaHandled } from '../../examples/lambda.js';
import { demo as queueDemo, dispositionOf } from '../../examples/queue-consumer.js';
import { WebhookError } from '../../src/index.js';

const quiet = (): void => {};

describe('examples run as documented', () => {
  it('fetch-hono: 200 for the webhook, 401 for the tampered copy', async () => {
    expect(await fetchDemo(quiet)).toEqual({ statuses: [200, 401], handled: 1 });
  });

  it('fastify: both routes answer 200 over loopback HTTP', async () => {
    expect(await fastifyDemo(quiet)).toEqual({ statuses: [200, 200], handled: 2 });
  });

  it('lambda: 200, then 401 for an unknown key id', async () => {
    expect(await lambdaDemo(quiet)).toEqual({ statuses: [200, 401] });
    expect(lambdaHandled).toHaveLength(1);
  });

  it('queue-consumer: ack, dead-letter, retry', async () => {
    expect(await queueDemo(quiet)).toEqual(['ack', 'dead-letter', 'retry']);
  });

  it.each([
    ['INVALID_JSON', 'dead-letter'],
    ['INVALID_ENVELOPE', 'dead-letter'],
    ['PAYLOAD_TOO_LARGE', 'dead-letter'],
    ['DECRYPTION_FAILED', 'dead-letter'],
    ['INVALID_PAYLOAD', 'dead-letter'],
    ['UNKNOWN_KEY', 'retry'],
    ['INVALID_KEY', 'retry'],
    ['KEY_STORE_UNAVAILABLE', 'retry'],
    ['HANDLER_FAILED', 'retry'],
    ['DUPLICATE_IN_PROGRESS', 'retry'],
  ] as const)('queue-consumer: %s -> %s', (code, disposition) => {
    expect(dispositionOf(new WebhookError(code))).toBe(disposition);
  });

  it('queue-consumer: an error of your own handler is retried', () => {
    expect(dispositionOf(new Error('database down'))).toBe('retry');
  });
});
