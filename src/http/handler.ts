// The framework-free HTTP handler every adapter wraps: head checks and the body reader around the one receive path, and its answer.
import { WebhookError } from '../wire/errors.js';
import { DUPLICATE_ANSWER, errorAnswer, RECEIVED_ANSWER, type HttpAnswer } from './answer.js';
import type { KompliantEvent } from '../wire/event.js';
import { ENVELOPE_OPTION_NAMES, type EnvelopeOptions } from '../receiver/options.js';
import { checkFunction, checkPositiveInteger } from '../options/checks.js';
import { notifyError } from '../receiver/notify-error.js';
import { receiveWebhook, resolveReceiverCore, type Disposal } from '../receiver/receive.js';
import { inflateBody, SUPPORTED_CONTENT_ENCODINGS } from './content-encoding.js';
import { DELIVERY_OPTION_NAMES, type DeliveryOptions } from '../delivery/options.js';
import { optionNames } from '../options/option-names.js';
import { createIpAllowList } from './ip-allow-list.js';
import { traceDelivery } from '../delivery/channel.js';
import { checkInbox, type Inbox } from '../inbox/inbox.js';
import { safeHook } from '../delivery/observers.js';
import type { PayloadSchemas, SchemaEvent } from '../receiver/payload-schemas.js';
import { checkHead, type BodyLimits, type HttpRequestHead } from './request.js';

export type { BodyLimits, HttpRequestHead } from './request.js';
export { framedBody } from './request.js';

/** The sender gives up after 30 s: a direct HTTP receiver's `deliveryTimeoutMs` must be less. */
const SENDER_TIMEOUT_MS = 30_000;

/** Default deadline for the whole body to arrive: 10 s. */
export const DEFAULT_READ_TIMEOUT_MS = 10_000;

/**
 * Options shared by every HTTP adapter (Express, and the other adapters' subpaths).
 * `TContext` is what the adapter passes to hooks: the Express request, a Fetch `Request`, ...
 * `TSchemas` is the type of the `schemas` option, which types the event `onEvent` receives.
 */
export interface HttpHandlerOptions<TContext, TSchemas extends PayloadSchemas = {}>
  extends Omit<EnvelopeOptions<TSchemas>, 'onError'>,
    DeliveryOptions {
  /**
   * Handles the event; the adapter answers `200 {"received":true}` once it resolves. A throw or
   * rejection answers 500 HANDLER_FAILED, so the sender retries. Without it, adapters that can
   * pass the event on (Express `next()`) do so.
   */
  onEvent?: (event: SchemaEvent<TSchemas>, context: TContext) => unknown;
  /**
   * Acknowledge once durable: each verified envelope, still encrypted, is handed to this queue
   * (`pgBossInbox` from `kompliant-webhooks/pg-boss`, `sqsInbox` from `kompliant-webhooks/sqs`,
   * or your own {@link Inbox}) and the answer is 200 as soon as the queue confirms the write; a
   * worker runs the handler later. Forged and broken envelopes are still rejected here. A failed
   * write answers 500 HANDLER_FAILED, one past `handlerTimeoutMs` 503 HANDLER_TIMEOUT (the sender
   * retries). Not with `onEvent`.
   */
  inbox?: Inbox;
  /**
   * Sees every `WebhookError` (rejections and handler failures) with the adapter's request, for
   * logs and metrics. Its message and code never hold secrets; `error.cause` may hold the
   * underlying store or handler error. Errors thrown by the hook are ignored.
   */
  onError?: (error: WebhookError, context: TContext) => void;
  /** Deadline for the whole body to arrive when the adapter reads the stream. Default 10 000 ms. */
  readTimeoutMs?: number;
  /**
   * Client addresses and CIDR ranges (IPv4, IPv6, IPv4-mapped IPv6) allowed to deliver; anyone
   * else gets 403 FORBIDDEN_IP before the body is read. The address is the adapter's
   * (`req.ip` in Express, so its `trust proxy` setting decides). Default: no check.
   */
  allowedIps?: readonly string[];
  /**
   * `'inflate'` (default): a `Content-Encoding` of gzip or deflate is inflated, with
   * `maxBodyBytes` applied to the inflated size (a zip bomb ends as 413). `'reject'`: any
   * content coding is 415 UNSUPPORTED_MEDIA_TYPE.
   */
  contentEncoding?: 'inflate' | 'reject';
}

/** Option names every HTTP adapter accepts; adapters add their own to this list. */
export const HTTP_HANDLER_OPTION_NAMES: readonly string[] = Object.freeze([
  ...ENVELOPE_OPTION_NAMES,
  ...DELIVERY_OPTION_NAMES,
  ...optionNames<Omit<HttpHandlerOptions<unknown>, keyof EnvelopeOptions | keyof DeliveryOptions>>({
    onEvent: true,
    inbox: true,
    readTimeoutMs: true,
    allowedIps: true,
    contentEncoding: true,
  }),
]);

/** The outcome of one request. */
export type HttpHandlerResult =
  | { kind: 'answer'; answer: HttpAnswer; event?: KompliantEvent }
  | {
      /** No `onEvent`: the adapter hands the event to application code (Express `next()`). */
      kind: 'pass';
      event: KompliantEvent;
      /**
       * Call with the final HTTP status once the application answered; an adapter that settles
       * a failure itself gives the `reason` (default `Application answered <status>`), which
       * is the logged and reported HANDLER_FAILED message.
       */
      settle(status: number, reason?: string): void;
    };

/** Reads the request body: the body (already parsed, bytes or text), or a promise of it. */
export type BodyReader<TContext> = (limits: BodyLimits, context: TContext) => unknown;

/** The framework-free HTTP semantics every adapter wraps. */
export interface HttpHandler<TContext> {
  /** Body limits for adapters that read the body themselves. */
  readonly limits: BodyLimits;
  /** Whether an `onEvent` handler was configured. */
  readonly handlesEvents: boolean;
  /**
   * Runs one request: head checks, body (via `readBody`, awaited), then the receive path with
   * `onEvent` or pass-through. A `WebhookError` becomes an answer; any other error rejects.
   * `deadlineMs` caps the delivery's deadline (a Lambda invocation's remaining time).
   */
  handle(head: HttpRequestHead, readBody: BodyReader<TContext>, context: TContext, deadlineMs?: number): Promise<HttpHandlerResult>;
  /** Passes an error the adapter found itself to the configured `onError` hook. */
  notifyError(error: WebhookError, context: TContext): void;
}

/** Checks the shared adapter options once and returns the resolved configuration. */
function resolveHttpOptions<TContext, TSchemas extends PayloadSchemas>(
  options: HttpHandlerOptions<TContext, TSchemas>,
  acceptedNames: readonly string[],
  where: string,
) {
  const core = resolveReceiverCore(options, acceptedNames, where);
  if (core.plan.deliveryTimeoutMs >= SENDER_TIMEOUT_MS) {
    throw new TypeError(`${where}: deliveryTimeoutMs must be less than ${SENDER_TIMEOUT_MS} (the sender gives up after 30 s, so a later answer is never seen)`);
  }
  const encoding = options.contentEncoding ?? 'inflate';
  if (encoding !== 'inflate' && encoding !== 'reject') throw new TypeError("contentEncoding must be 'inflate' or 'reject'");
  return {
    core,
    allowIp: options.allowedIps === undefined ? undefined : createIpAllowList(options.allowedIps),
    allowedEncodings: encoding === 'inflate' ? SUPPORTED_CONTENT_ENCODINGS : [],
    onEvent: checkFunction<(event: KompliantEvent<unknown>, context: TContext) => unknown>(options.onEvent, 'onEvent'),
    inbox: checkInboxOption(options),
    onError: safeHook(checkFunction<(error: WebhookError, context: TContext) => void>(options.onError, 'onError'), core.plan.observerFailed),
    limits: {
      maxBodyBytes: core.config.maxBodyBytes,
      readTimeoutMs: checkPositiveInteger(options.readTimeoutMs, 'readTimeoutMs', DEFAULT_READ_TIMEOUT_MS),
    },
  };
}

function checkInboxOption(options: { inbox?: unknown; onEvent?: unknown }): Inbox | undefined {
  const inbox = checkInbox(options.inbox);
  if (inbox !== undefined && options.onEvent !== undefined) throw new TypeError('inbox and onEvent cannot be used together: the inbox worker runs the handler');
  return inbox;
}

const PASS: Disposal = { mode: 'pass' };

/**
 * Builds the framework-free HTTP handler from adapter options. Options are checked here, once:
 * a bad or unknown option throws a `TypeError` naming it. `where` names the adapter in those
 * messages; `acceptedNames` lists every option the adapter accepts.
 */
export function createHttpHandler<TContext, TSchemas extends PayloadSchemas = {}>(
  options: HttpHandlerOptions<TContext, TSchemas>,
  where: string,
  acceptedNames: readonly string[] = HTTP_HANDLER_OPTION_NAMES,
): HttpHandler<TContext> {
  const { core, allowIp, allowedEncodings, onEvent, inbox, onError, limits } = resolveHttpOptions(options, acceptedNames, where);

  async function handle(head: HttpRequestHead, readBody: BodyReader<TContext>, context: TContext, deadlineMs?: number): Promise<HttpHandlerResult> {
    // The head is checked as the first step of reading, so its rejections are reported like any other.
    const read = async (): Promise<unknown> => {
      if (allowIp !== undefined && !allowIp(head.ip)) throw new WebhookError('FORBIDDEN_IP');
      const coding = checkHead(head, allowedEncodings);
      const decodedByParser = coding !== undefined && head.bodyDecoded === true; // asked before reading
      const body = await readBody(limits, context);
      return coding === undefined ? body : inflateBody(body, coding, limits.maxBodyBytes, decodedByParser);
    };
    const disposal: Disposal =
      inbox !== undefined
        ? { mode: 'enqueue', inbox, deadlineMs }
        : onEvent === undefined
          ? PASS
          : { mode: 'deliver', handler: (event) => onEvent(event, context), deadlineMs };
    const notify = (error: WebhookError): void => notifyError(onError, error, context);
    const received = await traceDelivery('http', (trace) => receiveWebhook(core, read, disposal, notify, trace));
    switch (received.outcome) {
      case 'rejected':
        return { kind: 'answer', answer: errorAnswer(received.error) };
      case 'passed':
        return { kind: 'pass', event: received.event as KompliantEvent, settle: received.settle };
      default:
        return { kind: 'answer', answer: received.outcome === 'duplicate' ? DUPLICATE_ANSWER : RECEIVED_ANSWER, event: received.event as KompliantEvent };
    }
  }

  return {
    limits,
    handlesEvents: onEvent !== undefined || inbox !== undefined,
    handle,
    notifyError: (error, context) => notifyError(onError, error, context),
  };
}

/**
 * For adapters that always answer themselves (Fetch, Lambda): builds the head with `makeHead`
 * (both callbacks take the request as `context`, so adapters pass functions made once),
 * runs `handle` and returns the answer. An unexpected failure (not a `WebhookError`: a bug, a
 * throwing custom `aad` or client-IP callback) becomes a
 * 500 HANDLER_FAILED reported to `onError` with the original as `cause`; a pass (no `onEvent`)
 * is settled as a failure and answered 500, so an event is never acknowledged unhandled.
 */
export async function answerRequest<TContext>(
  handler: HttpHandler<TContext>,
  makeHead: (context: TContext) => HttpRequestHead,
  readBody: BodyReader<TContext>,
  context: TContext,
  deadlineMs?: number,
): Promise<HttpAnswer> {
  let result: HttpHandlerResult;
  try {
    result = await handler.handle(makeHead(context), readBody, context, deadlineMs);
  } catch (cause) {
    const failure = new WebhookError('HANDLER_FAILED', { message: 'Internal error', cause });
    handler.notifyError(failure, context);
    return errorAnswer(failure);
  }
  if (result.kind === 'answer') return result.answer;
  result.settle(500);
  return errorAnswer(new WebhookError('HANDLER_FAILED', { message: 'No onEvent handler' }));
}
