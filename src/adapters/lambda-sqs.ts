// The SQS queue consumer for Lambda: each record's body is an envelope; only records that can never be valid are dropped, everything else is retried.
import { createWebhookReceiver, type ReceiverOptions } from '../receiver/receiver.js';
import { isWebhookError, type WebhookErrorCode } from '../wire/errors.js';
import { createDefaultLogger } from '../delivery/default-logger.js';
import { writeLog, type WebhookLogger } from '../delivery/logger.js';
import { createObserverReport, safeLogger } from '../delivery/observers.js';
import type { KompliantEvent, PayloadV1 } from '../wire/event.js';
import { checkNonNegativeInteger } from '../options/checks.js';
import { DEFAULT_INVOCATION_MARGIN_MS, invocationDeadline, type LambdaContextLike } from './lambda-invocation.js';

/** The fields of an SQS record this handler reads (`SQSRecord` from `@types/aws-lambda` fits). */
export interface SqsRecordLike {
  messageId: string;
  /** The message body: the webhook's request body, as an API Gateway -> SQS integration enqueued it. */
  body: string;
  /** The queue's ARN; a name ending in `.fifo` makes the batch run in order. */
  eventSourceARN?: string;
  /**
   * The message attributes. `traceparent` (and `tracestate`), as `sqsInbox` sets them, link the
   * delivery's span to the receiver's; a malformed one is ignored.
   */
  messageAttributes?: Readonly<Record<string, { stringValue?: string | undefined } | undefined>>;
}

/** The W3C trace context in a record's message attributes (checked by the receiver), if any. */
function traceLinkOf(record: SqsRecordLike): { traceparent?: unknown; tracestate?: unknown } | undefined {
  const attributes: unknown = record.messageAttributes;
  if (typeof attributes !== 'object' || attributes === null) return undefined;
  const value = (name: string): unknown => {
    const attribute = (attributes as Record<string, unknown>)[name];
    return typeof attribute === 'object' && attribute !== null ? (attribute as { stringValue?: unknown }).stringValue : undefined;
  };
  return { traceparent: value('traceparent'), tracestate: value('tracestate') };
}

/** An SQS-triggered invocation's event (`SQSEvent` fits). */
export interface SqsBatchEventLike {
  Records: readonly SqsRecordLike[];
}

/** The partial batch response: the records SQS must deliver again (`SQSBatchResponse` fits). */
export interface SqsBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

/**
 * Options of {@link createSqsBatchHandler}: those of `createWebhookReceiver` (key store,
 * deduplication, timeouts, logs, counters) plus the handler and the invocation margin.
 * Turn on "Report batch item failures" (`FunctionResponseTypes: ReportBatchItemFailures`) on the
 * event source mapping, or SQS ignores the response and retries the whole batch.
 */
export interface SqsBatchHandlerOptions<TData = PayloadV1> extends ReceiverOptions {
  /** Handles one verified event; `record` is the SQS record it came in. Required. */
  onEvent: (event: KompliantEvent<TData>, record: SqsRecordLike) => unknown;
  /**
   * Time kept back from the invocation: each record's delivery deadline is the smaller of
   * `deliveryTimeoutMs` and the invocation's remaining time minus this (the key lookup, claim,
   * schema check and handler all end within it).
   *
   * @defaultValue 1000
   */
  invocationMarginMs?: number;
}

/** An SQS-triggered Lambda handler returning a partial batch response. */
export type SqsBatchHandler = (event: SqsBatchEventLike, context?: LambdaContextLike) => Promise<SqsBatchResponse>;

/**
 * The codes of a record that can never be valid (spec section 7, "Queues"): a body that is not
 * JSON, not an envelope, or an envelope that breaks the format rules of section 1. In a queue the
 * envelope came from a trusted producer, so every other failure (an unknown or wrong key, a store
 * down, a payload schema, the handler, a timeout, an unexpected error) may be cured on the
 * consumer's side and is returned for redelivery, ending in the DLQ rather than deleted.
 */
const NEVER_VALID: ReadonlySet<WebhookErrorCode> = new Set<WebhookErrorCode>(['INVALID_JSON', 'INVALID_ENVELOPE']);

/** The code of a record to acknowledge and drop, or undefined when it must come back. */
function neverValidCode(error: unknown): WebhookErrorCode | undefined {
  return isWebhookError(error) && NEVER_VALID.has(error.code) ? error.code : undefined;
}

/** The record's message id, or undefined for an entry that is not a record with a non-empty `messageId`. */
function messageIdOf(record: unknown): string | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  const id = (record as { messageId?: unknown }).messageId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/**
 * Creates an SQS batch handler for Lambda: each record's body is a Kompliant envelope (enqueued
 * by an API Gateway -> SQS integration, say). Every record runs through the receiver's pipeline
 * and delivery sequence (deduplication by id, handler timeout, logs, counters). A record that was
 * handled (or is a duplicate of a handled id) is acknowledged. A record that can never be valid
 * (`INVALID_JSON`, `INVALID_ENVELOPE`: not JSON, not an envelope, an envelope breaking the format
 * rules) is acknowledged and dropped, and logged with its message id and code (never its body).
 * Every other record is listed in `batchItemFailures`: `UNKNOWN_KEY`, `DECRYPTION_FAILED`,
 * `INVALID_PAYLOAD`, store failures, handler failures and timeouts, so SQS delivers it again and
 * finally moves it to the queue's DLQ. An entry that is not a record with a `messageId` cannot be
 * reported and is skipped with a log line. On a FIFO queue the records run one after another and,
 * after the first record to retry, the rest of the batch is returned unprocessed so that order is
 * kept.
 *
 * Create it at module scope so the key cache and the dedup store live across warm invocations.
 *
 * @example
 * ```ts
 * import { createSqsBatchHandler } from 'kompliant-webhooks/lambda';
 * import { envKeyStore } from 'kompliant-webhooks';
 *
 * export const handler = createSqsBatchHandler({
 *   keyStore: envKeyStore(),
 *   async onEvent(event) {
 *     await db.events.insert({ id: event.id, type: event.event_type, data: event.data });
 *   },
 * });
 * ```
 */
export function createSqsBatchHandler<TData = PayloadV1>(options: SqsBatchHandlerOptions<TData>): SqsBatchHandler {
  if (typeof options !== 'object' || options === null) throw new TypeError('createSqsBatchHandler: options must be an object');
  // The two options of this handler; the rest are the receiver's, checked by it.
  const { onEvent, invocationMarginMs, ...receiverOptions } = options;
  if (typeof onEvent !== 'function') throw new TypeError('createSqsBatchHandler: onEvent is required and must be a function');
  const marginMs = checkNonNegativeInteger(invocationMarginMs, 'invocationMarginMs', DEFAULT_INVOCATION_MARGIN_MS);
  const receiver = createWebhookReceiver(receiverOptions);
  // The receiver checked the `logger` option; this handler's own lines (a record dropped or
  // skipped) go to the same logger, or to a default one on stderr like the receiver's.
  const logger: WebhookLogger | undefined = safeLogger(
    receiverOptions.logger === false ? undefined : (receiverOptions.logger ?? createDefaultLogger()),
    createObserverReport(receiverOptions.stats, () => undefined),
  );

  /** Runs one record; resolves true when it is acknowledged (handled, a duplicate, or dropped as never valid). */
  const run = async (record: SqsRecordLike, messageId: string, context: LambdaContextLike | undefined): Promise<boolean> => {
    try {
      const deadline = invocationDeadline(context, marginMs);
      const traceLink = traceLinkOf(record);
      await receiver.handle<TData>(record.body, (event) => onEvent(event, record), {
        ...(deadline === undefined ? {} : { handlerTimeoutMs: deadline }),
        ...(traceLink === undefined ? {} : { traceLink }),
      });
      return true;
    } catch (error) {
      const code = neverValidCode(error);
      if (code === undefined) return false;
      writeLog(logger, 'error', { message_id: messageId, code, outcome: 'rejected' }, `kompliant sqs record dropped: ${code}`);
      return true;
    }
  };

  /** The message id of an entry to run, or undefined (logged) for one that cannot be reported. */
  const runnable = (record: unknown, index: number): string | undefined => {
    const messageId = messageIdOf(record);
    if (messageId === undefined) {
      writeLog(logger, 'error', {}, `kompliant sqs batch entry ${index} skipped: not a record with a messageId, so it can be neither handled nor reported for retry`);
    }
    return messageId;
  };

  return async function kompliantSqsBatchHandler(event, context) {
    const records: readonly unknown[] = Array.isArray(event?.Records) ? event.Records : [];
    const failures: Array<{ itemIdentifier: string }> = [];
    const fifo = records.some((record) => {
      const arn = typeof record === 'object' && record !== null ? (record as { eventSourceARN?: unknown }).eventSourceARN : undefined;
      return typeof arn === 'string' && arn.endsWith('.fifo');
    });
    if (fifo) {
      for (let i = 0; i < records.length; i++) {
        const messageId = runnable(records[i], i);
        if (messageId === undefined || (await run(records[i] as SqsRecordLike, messageId, context))) continue;
        for (const rest of records.slice(i)) {
          const id = messageIdOf(rest);
          if (id !== undefined) failures.push({ itemIdentifier: id });
        }
        break;
      }
    } else {
      const ids = records.map((record, i) => runnable(record, i));
      const acknowledged = await Promise.all(records.map((record, i) => (ids[i] === undefined ? true : run(record as SqsRecordLike, ids[i]!, context))));
      ids.forEach((id, i) => {
        if (id !== undefined && !acknowledged[i]) failures.push({ itemIdentifier: id });
      });
    }
    return { batchItemFailures: failures };
  };
}
