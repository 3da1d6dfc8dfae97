// The SQS inbox through the real AWS SDK to a local SQS fake: the body is the envelope the batch
// handler reads, FIFO deduplication by job id, metadata attributes, a deadline on a hung queue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryKeyStore, type KompliantEnvelope, type KompliantEvent } from '../../src/index.js';
import { inboxJobId } from '../../src/inbox/inbox.js';
import { createSqsBatchHandler } from '../../src/lambda.js';
import { sqsInbox } from '../../src/sqs.js';
import { createTestWebhook } from '../../src/testing.js';
import { KEY_ID, SECRET } from '../support/app.js';
import { startFakeSqs, type FakeSqs } from '../support/sqs-server.js';
import { inboxMetaOf } from '../support/inbox.js';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const metaOf = (envelope: KompliantEnvelope, subjectRecordId?: string) => inboxMetaOf(envelope, { subjectRecordId, traceparent: TRACEPARENT, tracestate: 'vendor=1' });

describe('sqsInbox', () => {
  let sqs: FakeSqs;
  beforeAll(async () => {
    sqs = await startFakeSqs();
  });
  afterAll(async () => {
    await sqs.close();
  });

  it('checks its options', () => {
    expect(() => sqsInbox({} as never)).toThrow(/client must be an SQSClient/);
    expect(() => sqsInbox({ client: sqs.client(), queueUrl: 'inbox' })).toThrow(/queueUrl/);
    expect(() => sqsInbox({ client: sqs.client(), queueUrl: sqs.queueUrl('q'), retries: 3 } as never)).toThrow(/unknown option "retries"/);
  });

  it('sends the envelope as received, which the SQS batch handler opens', async () => {
    const queueUrl = sqs.queueUrl('inbox-standard');
    const inbox = sqsInbox({ client: sqs.client(), queueUrl });
    const envelope = createTestWebhook({ keyId: KEY_ID, secret: SECRET, eventType: 'WORKFLOW_COMPLETED' });
    await inbox.enqueue({ ...envelope, unknown_field: 'dropped' } as never, metaOf(envelope));
    const [message] = sqs.messages.filter((m) => m.queueUrl === queueUrl);
    expect(message).toBeDefined();
    expect(JSON.parse(message!.body)).toEqual(envelope);
    expect(message!.attributes).toEqual({
      account_id: envelope.account_id,
      event_type: 'WORKFLOW_COMPLETED',
      key_id: KEY_ID,
      traceparent: TRACEPARENT,
      tracestate: 'vendor=1',
    });
    expect(message!.deduplicationId).toBeUndefined();

    const seen: KompliantEvent[] = [];
    const worker = createSqsBatchHandler({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent: (event) => void seen.push(event) });
    const response = await worker({ Records: [{ messageId: message!.messageId, body: message!.body }] });
    expect(response.batchItemFailures).toEqual([]);
    expect(seen.map((event) => event.id)).toEqual([envelope.id]);
  });

  it('on a FIFO queue, one message per event: the job id deduplicates, the subject orders when asked', async () => {
    const queueUrl = sqs.queueUrl('inbox.fifo');
    const inbox = sqsInbox({ client: sqs.client(), queueUrl, orderBySubject: true });
    const envelope = createTestWebhook({ keyId: KEY_ID, secret: SECRET });
    await Promise.all([inbox.enqueue(envelope, metaOf(envelope, 'sr_1')), inbox.enqueue({ ...envelope, retry_count: 3 }, metaOf(envelope, 'sr_1'))]);
    const sent = sqs.messages.filter((m) => m.queueUrl === queueUrl);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.deduplicationId).toBe(inboxJobId(envelope.account_id, envelope.id));
    expect(sent[0]?.groupId).toBe('sr_1');

    const unordered = sqsInbox({ client: sqs.client(), queueUrl: sqs.queueUrl('other.fifo') });
    await unordered.enqueue(envelope, metaOf(envelope, 'sr_1'));
    expect(sqs.messages.at(-1)?.groupId).toBe(inboxJobId(envelope.account_id, envelope.id));
  });

  it('rejects when SQS fails or does not answer within timeoutMs', async () => {
    const envelope = createTestWebhook({ keyId: KEY_ID, secret: SECRET });
    sqs.failWith = 'InternalError';
    await expect(sqsInbox({ client: sqs.client(), queueUrl: sqs.queueUrl('q') }).enqueue(envelope, metaOf(envelope))).rejects.toThrow();
    sqs.failWith = undefined;
    sqs.hang = true;
    await expect(sqsInbox({ client: sqs.client(), queueUrl: sqs.queueUrl('q'), timeoutMs: 200 }).enqueue(envelope, metaOf(envelope))).rejects.toThrow();
    sqs.hang = false;
  });
});
