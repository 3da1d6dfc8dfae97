// sqsInbox: the receiver's Inbox on an Amazon SQS queue; createSqsBatchHandler is its worker.
import { SendMessageCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import { storedEnvelope, type Inbox } from '../../inbox/inbox.js';
import { checkOptionNames, checkPositiveInteger } from '../../options/checks.js';

/** Options of {@link sqsInbox}. */
export interface SqsInboxOptions {
  /** An `SQSClient` you configured (region, credentials, retries). Required. */
  client: SQSClient;
  /** The queue URL. A URL ending in `.fifo` gets the event's job id as its deduplication id. Required. */
  queueUrl: string;
  /**
   * On a FIFO queue, keep the events of one `subject_record_id` in order (it becomes the message
   * group). Otherwise every event is its own group. Default false.
   */
  orderBySubject?: boolean;
  /** Deadline of one SendMessage call, SDK retries included; past it the delivery answers 503. Default 5000. */
  timeoutMs?: number;
}

const OPTION_NAMES = ['client', 'queueUrl', 'orderBySubject', 'timeoutMs'] as const;

/**
 * An {@link Inbox} that sends each verified envelope, still encrypted and exactly as the SQS
 * batch handler reads it (the message body is the envelope JSON), to an SQS queue, and resolves
 * once SQS accepted it. Process the queue with `createSqsBatchHandler` from
 * `kompliant-webhooks/lambda`, with a redrive policy to a dead-letter queue. On a FIFO queue the
 * job id (from `account_id` and `id`) is the deduplication id, so retries and racing deliveries
 * within SQS's five-minute window become one message; on a standard queue give the batch handler
 * a shared idempotency store so a duplicate message runs the handler once.
 *
 * @example
 * ```ts
 * import { SQSClient } from '@aws-sdk/client-sqs';
 * import { kompliantWebhook, envKeyStore } from 'kompliant-webhooks';
 * import { sqsInbox } from 'kompliant-webhooks/sqs';
 *
 * const inbox = sqsInbox({ client: new SQSClient({}), queueUrl: process.env.INBOX_QUEUE_URL! });
 * app.post('/webhooks/kompliant', kompliantWebhook({ keyStore: envKeyStore(), inbox }));
 * ```
 */
export function sqsInbox(options: SqsInboxOptions): Inbox {
  if (typeof options !== 'object' || options === null) throw new TypeError('sqsInbox: options must be an object');
  checkOptionNames(options, OPTION_NAMES, 'sqsInbox');
  const { client, queueUrl } = options;
  if (typeof client !== 'object' || client === null || typeof (client as { send?: unknown }).send !== 'function') {
    throw new TypeError('sqsInbox: client must be an SQSClient');
  }
  if (typeof queueUrl !== 'string' || !/^https?:\/\/\S+$/.test(queueUrl)) throw new TypeError('sqsInbox: queueUrl must be the queue URL');
  if (options.orderBySubject !== undefined && typeof options.orderBySubject !== 'boolean') {
    throw new TypeError('sqsInbox: orderBySubject must be a boolean');
  }
  const timeoutMs = checkPositiveInteger(options.timeoutMs, 'timeoutMs', 5000);
  const fifo = queueUrl.endsWith('.fifo');
  return {
    async enqueue(envelope, meta) {
      const attributes: Record<string, MessageAttributeValue> = {
        account_id: { DataType: 'String', StringValue: meta.accountId },
        event_type: { DataType: 'String', StringValue: meta.eventType },
        key_id: { DataType: 'String', StringValue: meta.keyId },
      };
      // The receiver span's trace context, read back by createSqsBatchHandler to link its span.
      if (meta.traceparent !== undefined) attributes.traceparent = { DataType: 'String', StringValue: meta.traceparent };
      if (meta.tracestate !== undefined) attributes.tracestate = { DataType: 'String', StringValue: meta.tracestate };
      const command = new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify(storedEnvelope(envelope)),
        MessageAttributes: attributes,
        ...(fifo
          ? { MessageDeduplicationId: meta.jobId, MessageGroupId: options.orderBySubject === true ? (meta.subjectRecordId ?? meta.jobId) : meta.jobId }
          : {}),
      });
      await client.send(command, { abortSignal: AbortSignal.timeout(timeoutMs) });
    },
  };
}
