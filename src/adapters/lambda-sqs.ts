// The SQS queue consumer for Lambda: each record's body is an envelope; final outcomes are acknowledged, retryable ones reported for redelivery.
import { createWebhookReceiver, type ReceiverOptions } from '../receiver/receiver.js';
import { isWebhookError } from '../wire/errors.js';
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
   * Time kept back from the invocation: each handler's deadline is the smaller of
   * `handlerTimeoutMs` and the invocation's remaining time minus this. Default 1000 ms.
   */
  invocationMarginMs?: number;
}

/** An SQS-triggered Lambda handler returning a partial batch response. */
export type SqsBatchHandler = (event: SqsBatchEventLike, context?: LambdaContextLike) => Promise<SqsBatchResponse>;

/**
 * Whether a delivery that ended in `error` must come back (spec section 7, "Queues"): 408, 409,
 * every 5xx, and an unexpected failure that is not a `WebhookError`. Any other 4xx is final:
 * forged or malformed input never becomes valid.
 */
function isRetryableOutcome(error: unknown): boolean {
  if (!isWebhookError(error)) return true;
  return error.status === 408 || error.status === 409 || error.status >= 500;
}

/**
 * Creates an SQS batch handler for Lambda: each record's body is a Kompliant envelope (enqueued
 * by an API Gateway -> SQS integration, say). Every record runs through the receiver's pipeline
 * and delivery sequence (deduplication by id, handler timeout, logs, counters). The response lists
 * exactly the records whose outcome is retryable (408, 409, any 5xx, an unexpected failure);
 * success, a duplicate and any other 4xx are acknowledged, the 4xx reported through `onError` and
 * the logger. On a FIFO queue the records run one after another and, after the first retryable
 * failure, the rest of the batch is returned unprocessed so that order is kept.
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

  const run = async (record: SqsRecordLike, context: LambdaContextLike | undefined): Promise<boolean> => {
    const deadline = invocationDeadline(context, marginMs);
    try {
      await receiver.handle<TData>(record.body, (event) => onEvent(event, record), deadline === undefined ? {} : { handlerTimeoutMs: deadline });
      return true;
    } catch (error) {
      return !isRetryableOutcome(error);
    }
  };

  return async function kompliantSqsBatchHandler(event, context) {
    const records = Array.isArray(event?.Records) ? event.Records : [];
    const failures: Array<{ itemIdentifier: string }> = [];
    const fifo = records.some((record) => typeof record.eventSourceARN === 'string' && record.eventSourceARN.endsWith('.fifo'));
    if (fifo) {
      for (let i = 0; i < records.length; i++) {
        const record = records[i]!;
        if (await run(record, context)) continue;
        for (const rest of records.slice(i)) failures.push({ itemIdentifier: rest.messageId });
        break;
      }
    } else {
      const acknowledged = await Promise.all(records.map((record) => run(record, context)));
      records.forEach((record, i) => {
        if (!acknowledged[i]) failures.push({ itemIdentifier: record.messageId });
      });
    }
    return { batchItemFailures: failures };
  };
}
