// The kompliant-webhooks:delivery tracing channel as a subscriber sees it: event order, message shape, nothing secret, nothing built when nobody listens.
import diagnosticsChannel from 'node:diagnostics_channel';
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookReceiver, DELIVERY_CHANNEL_NAME, kompliantWebhook, memoryKeyStore, type DeliveryChannelMessage } from '../../src/index.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';

const KEY_ID = 'whk_20251121_01';
const SECRET = generateSharedSecret();
const MARKER = 'PLAINTEXT-MARKER-c0de';
const keyStore = memoryKeyStore({ [KEY_ID]: SECRET });
const channel = diagnosticsChannel.tracingChannel<unknown, DeliveryChannelMessage>(DELIVERY_CHANNEL_NAME);

/** Subscribes to every event of the channel, recording (event name, a snapshot of the message). */
function record() {
  const seen: Array<[string, DeliveryChannelMessage]> = [];
  const at = (name: string) => (message: unknown) => void seen.push([name, { ...(message as DeliveryChannelMessage) }]);
  const handlers = { start: at('start'), end: at('end'), asyncStart: at('asyncStart'), asyncEnd: at('asyncEnd'), error: at('error') };
  channel.subscribe(handlers);
  return { seen, stop: () => channel.unsubscribe(handlers) };
}

let stop: (() => void) | undefined;
afterEach(() => stop?.());

function app(onEvent: () => unknown) {
  const a = express();
  a.post('/hook', kompliantWebhook({ keyStore, onEvent }));
  return a;
}

describe('delivery tracing channel', () => {
  it('a handled delivery: start, end, asyncStart, asyncEnd with the identifiers, outcome and status', async () => {
    const recorder = record();
    stop = recorder.stop;
    const envelope = createTestWebhook({ secret: SECRET, keyId: KEY_ID, data: { version: '1.0', subject_record_id: 's', user_context: { user_id: 'u', user_type: 'USER' }, note: MARKER } });
    await request(app(() => undefined)).post('/hook').send(envelope).expect(200);
    expect(recorder.seen.map(([name]) => name)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    const [, final] = recorder.seen.at(-1)!;
    expect(final).toEqual({
      entryPoint: 'http',
      startTime: expect.any(Number),
      event: {
        id: envelope.id,
        event_type: envelope.event_type,
        account_id: envelope.account_id,
        key_id: KEY_ID,
        timestamp: envelope.timestamp,
        retry_count: 0,
      },
      outcome: 'handled',
      status: 200,
    });
    expect(JSON.stringify(recorder.seen)).not.toContain(MARKER);
    expect(JSON.stringify(recorder.seen)).not.toContain(envelope.data);
  });

  it('a rejection before decryption publishes error with the WebhookError, and no event', async () => {
    const recorder = record();
    stop = recorder.stop;
    await request(app(() => undefined)).post('/hook').send(createTestWebhook({ secret: generateSharedSecret(), keyId: KEY_ID })).expect(401);
    expect(recorder.seen.map(([name]) => name)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    const [, final] = recorder.seen.at(-1)!;
    expect(final).toMatchObject({ entryPoint: 'http', outcome: 'rejected', status: 401, code: 'DECRYPTION_FAILED' });
    expect(final.event).toBeUndefined();
    expect(final.error?.code).toBe('DECRYPTION_FAILED');
  });

  it('receiver.handle publishes with entryPoint receiver; a failing handler ends as failed 500', async () => {
    const recorder = record();
    stop = recorder.stop;
    const receiver = createWebhookReceiver({ keyStore });
    await expect(receiver.handle(createTestWebhook({ secret: SECRET, keyId: KEY_ID }), () => Promise.reject(new Error('boom')))).rejects.toThrow();
    const [, final] = recorder.seen.at(-1)!;
    expect(final).toMatchObject({ entryPoint: 'receiver', outcome: 'failed', status: 500, code: 'HANDLER_FAILED' });
  });

  it('Express pass-through: the delivery ends when the application answers', async () => {
    const recorder = record();
    stop = recorder.stop;
    const a = express();
    a.post('/hook', kompliantWebhook({ keyStore }), (_req, res) => {
      expect(recorder.seen.map(([name]) => name)).toEqual(['start', 'end']);
      res.status(204).end();
    });
    await request(a).post('/hook').send(createTestWebhook({ secret: SECRET, keyId: KEY_ID })).expect(204);
    await new Promise((resolve) => setImmediate(resolve));
    expect(recorder.seen.at(-1)![1]).toMatchObject({ outcome: 'passed', status: 200 });
  });

  it('nothing is published (no message built) when nobody listens', async () => {
    expect(channel.start.hasSubscribers || channel.asyncEnd.hasSubscribers).toBe(false);
    await request(app(() => undefined)).post('/hook').send(createTestWebhook({ secret: SECRET, keyId: KEY_ID })).expect(200);
  });
});
