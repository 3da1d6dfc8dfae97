import type { Context, SQSBatchResponse, SQSEvent, SQSHandler, SQSRecord } from 'aws-lambda';
import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import { memoryKeyStore, type KeyStore, type WebhookError } from '../../src/index.js';
import { createSqsBatchHandler } from '../../src/lambda.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';

const KEY_ID = 'whk_20251121_01';
const secret = generateSharedSecret();
const keyStore = memoryKeyStore({ [KEY_ID]: secret });
const QUEUE = 'arn:aws:sqs:eu-west-1:123456789012:kompliant-webhooks';

let counter = 0;
/** An SQS record as Lambda delivers it, its body the webhook's request body. */
function record(body: string, arn = QUEUE): SQSRecord {
  counter += 1;
  return {
    messageId: `msg-${counter}`,
    receiptHandle: `rh-${counter}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1764000000000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1764000000001',
    },
    messageAttributes: {},
    md5OfBody: '0',
    eventSource: 'aws:sqs',
    eventSourceARN: arn,
    awsRegion: 'eu-west-1',
  };
}

const webhook = (id: string, data: Record<string, unknown> = { version: '1.0' }): string =>
  JSON.stringify(createTestWebhook({ secret, keyId: KEY_ID, id, data }));

function tampered(id: string): string {
  const envelope = createTestWebhook({ secret, keyId: KEY_ID, id });
  return JSON.stringify({ ...envelope, event_type: 'DOCUMENT_UPLOADED' });
}

/** The part of a Lambda context the handler reads, with a fixed remaining time. */
const contextWith = (remainingMs: number): Context => ({ getRemainingTimeInMillis: () => remainingMs }) as Context;

const failed = (response: SQSBatchResponse | void): string[] => (response ? response.batchItemFailures.map((f) => f.itemIdentifier) : []);

describe('createSqsBatchHandler', () => {
  it('fits the SQSHandler type of @types/aws-lambda', () => {
    const handler = createSqsBatchHandler({ keyStore, onEvent() {} });
    expectTypeOf(handler).toExtend<SQSHandler>();
  });

  it('acknowledges a handled record and a duplicate of it, and reports a handler failure and a store failure (spec section 7, Queues)', async () => {
    const handled: string[] = [];
    const errors: string[] = [];
    const failingStore: KeyStore = { getSecret: () => Promise.reject(new Error('store down')) };
    const handler = createSqsBatchHandler({
      keyStore,
      logger: false,
      onError: (error: WebhookError) => errors.push(error.code),
      async onEvent(event) {
        if ((event.data as { fail?: boolean }).fail === true) throw new Error('db down');
        handled.push(event.id);
      },
    });
    const ok = record(webhook('wh_ok'));
    const throwing = record(webhook('wh_throws', { version: '1.0', fail: true }));
    const response = await handler({ Records: [ok, throwing] }, contextWith(60_000));
    expect(failed(response)).toEqual([throwing.messageId]);
    expect(handled).toEqual(['wh_ok']);
    expect(errors).toEqual(['HANDLER_FAILED']);

    // A redelivery of a handled record is a duplicate: acknowledged, handler not called again.
    expect(failed(await handler({ Records: [record(ok.body)] }, contextWith(60_000)))).toEqual([]);
    expect(handled).toEqual(['wh_ok']);

    // A key store that fails is a 503: retryable.
    const down = createSqsBatchHandler({ keyStore: failingStore, cache: false, logger: false, onEvent() {} });
    const r = record(webhook('wh_down'));
    expect(failed(await down({ Records: [r] }, contextWith(60_000)))).toEqual([r.messageId]);
  });

  it('reports a second record of an id that is still being handled (409) for redelivery', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const runs = vi.fn(() => gate);
    const handler = createSqsBatchHandler({ keyStore, onEvent: runs });
    const first = record(webhook('wh_same'));
    const second = record(first.body);
    const pending = handler({ Records: [first, second] }, contextWith(60_000));
    await vi.waitFor(() => expect(runs).toHaveBeenCalledTimes(1));
    release();
    expect(failed(await pending)).toEqual([second.messageId]);
    expect(runs).toHaveBeenCalledTimes(1);
  });

  it('caps the handler by the invocation: a handler still running at remaining time minus the margin is reported (503 HANDLER_TIMEOUT)', async () => {
    const codes: string[] = [];
    const handler = createSqsBatchHandler({
      keyStore,
     
      handlerTimeoutMs: 60_000,
      invocationMarginMs: 1000,
      onError: (error: WebhookError) => codes.push(error.code),
      onEvent: () => new Promise(() => {}),
    });
    const r = record(webhook('wh_slow'));
    // 1050 ms left, 1000 ms kept back: the handler gets 50 ms, not the configured 60 s.
    expect(failed(await handler({ Records: [r] }, contextWith(1050)))).toEqual([r.messageId]);
    expect(codes).toEqual(['HANDLER_TIMEOUT']);
  });

  it('on a FIFO queue runs records in order and returns the rest of the batch after the first retryable failure', async () => {
    const seen: string[] = [];
    const handler = createSqsBatchHandler({
      keyStore,
     
      async onEvent(event) {
        seen.push(event.id);
        if (event.id === 'wh_fifo_2') throw new Error('db down');
      },
    });
    const fifo = `${QUEUE}.fifo`;
    const records = [record(webhook('wh_fifo_1'), fifo), record(tampered('wh_fifo_forged'), fifo), record(webhook('wh_fifo_2'), fifo), record(webhook('wh_fifo_3'), fifo)];
    const response = await handler({ Records: records }, contextWith(60_000));
    // The forged record (DECRYPTION_FAILED) comes back, and with it the rest of the batch, unprocessed.
    expect(failed(response)).toEqual(records.slice(1).map((r) => r.messageId));
    expect(seen).toEqual(['wh_fifo_1']);
  });

  it('answers an empty or malformed event with no failures, and checks its options at construction', async () => {
    const handler = createSqsBatchHandler({ keyStore, onEvent() {} });
    expect(await handler({ Records: [] } as SQSEvent, contextWith(60_000))).toEqual({ batchItemFailures: [] });
    expect(() => createSqsBatchHandler({ keyStore } as never)).toThrow(/onEvent is required/);
    expect(() => createSqsBatchHandler({ keyStore, onEvent() {}, invocationMarginMs: -1 })).toThrow(/invocationMarginMs/);
    expect(() => createSqsBatchHandler({ keyStore, onEvent() {}, handlerTimout: 5 } as never)).toThrow(/unknown option "handlerTimout"/);
  });
});
