// The framework-free HTTP handler every adapter wraps: request head checks, body, pipeline, then delivery or pass-through.
import { WebhookError, isWebhookError } from '../wire/errors.js';
import { DUPLICATE_ANSWER, errorAnswer, RECEIVED_ANSWER, type HttpAnswer } from './answer.js';
import type { KompliantEvent, PayloadV1 } from '../wire/event.js';
import { RECEIVER_OPTION_NAMES, resolveReceiverOptions, type ReceiverOptions, type ResolvedReceiverOptions } from '../receiver/options.js';
import { checkFunction, checkOptionNames, checkPositiveInteger } from '../options/checks.js';
import { notifyError } from '../receiver/notify-error.js';
import { runPipeline } from '../receiver/pipeline.js';
import { checkContentEncoding, inflateBody, SUPPORTED_CONTENT_ENCODINGS } from './content-encoding.js';
import { DELIVERY_OPTION_NAMES, resolveDeliveryOptions, withHandlerDeadline, type DeliveryOptions } from '../delivery/options.js';
import type { HeldClaim } from '../delivery/claim.js';
import { reportDelivered, reportRejected } from '../delivery/report.js';
import { claimEvent, deliver, type DeliveredOutcome } from '../delivery/sequence.js';
import { countingKeyStore } from '../key-stores/counting.js';
import { optionNames } from '../options/option-names.js';
import { createIpAllowList } from './ip-allow-list.js';
import { countStat } from '../delivery/stats.js';
import { safeHook } from '../delivery/observers.js';
import { deliveryTraced, finishDeliveryTrace, traceDelivery, traceEvent, type DeliveryChannelMessage } from '../delivery/channel.js';
import { validatePayload, type PayloadSchemas, type SchemaEvent } from '../receiver/payload-schemas.js';

/** Default deadline for the whole body to arrive: 10 s. */
export const DEFAULT_READ_TIMEOUT_MS = 10_000;

/** Limits for reading a request body. */
export interface BodyLimits {
  /** Largest body accepted, in bytes. */
  maxBodyBytes: number;
  /** Deadline for the whole body, in milliseconds. */
  readTimeoutMs: number;
}

/**
 * Options shared by every HTTP adapter (Express, and the other adapters' subpaths).
 * `TContext` is what the adapter passes to hooks: the Express request, a Fetch `Request`, ...
 * `TSchemas` is the type of the `schemas` option, which types the event `onEvent` receives.
 */
export interface HttpHandlerOptions<TContext, TSchemas extends PayloadSchemas = {}>
  extends Omit<ReceiverOptions<TSchemas>, 'onError'>,
    DeliveryOptions {
  /**
   * Handles the event; the adapter answers `200 {"received":true}` once it resolves. A throw or
   * rejection answers 500 HANDLER_FAILED, so the sender retries. Without it, adapters that can
   * pass the event on (Express `next()`) do so.
   */
  onEvent?: (event: SchemaEvent<TSchemas>, context: TContext) => unknown;
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
  ...RECEIVER_OPTION_NAMES,
  ...DELIVERY_OPTION_NAMES,
  ...optionNames<Omit<HttpHandlerOptions<unknown>, keyof ReceiverOptions | keyof DeliveryOptions>>({
    onEvent: true,
    readTimeoutMs: true,
    allowedIps: true,
    contentEncoding: true,
  }),
]);

/** What an adapter knows about the request before reading the body. */
export interface HttpRequestHead {
  method: string | undefined;
  /** A header by lower-case name; repeated headers joined with `,`. */
  header(name: string): string | undefined;
  /** The client address as the framework sees it (Express `req.ip`, so `trust proxy` decides). */
  ip?: string | undefined;
  /**
   * Whether the request carries a body, for runtimes that know it without framing headers
   * (a Fetch `Request` over HTTP/2, a Lambda event). When unset, Content-Length and
   * Transfer-Encoding decide.
   */
  hasBody?: boolean | undefined;
  /**
   * True when a body parser already read the body and undid its `Content-Encoding`
   * (`express.json()`, `express.raw()`, Fastify's parser). When unset, the body handed over is
   * the bytes as sent, and a coding that does not describe them is 400 INVALID_JSON. Read
   * before the body is read, and only when the request has a content coding.
   */
  readonly bodyDecoded?: boolean | undefined;
}


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

/** The framework-free HTTP semantics every adapter wraps. */
export interface HttpHandler<TContext> {
  /** Body limits for adapters that read the body themselves. */
  readonly limits: BodyLimits;
  /** Whether an `onEvent` handler was configured. */
  readonly handlesEvents: boolean;
  /**
   * Runs one request: head checks, body (via `readBody`), the receiver pipeline, then
   * `onEvent` or pass-through. Never rejects for a `WebhookError`: those become answers.
   */
  handle(
    head: HttpRequestHead,
    readBody: (limits: BodyLimits, context: TContext) => Promise<unknown>,
    context: TContext,
    handlerDeadlineMs?: number,
  ): Promise<HttpHandlerResult>;
  /**
   * {@link HttpHandler.handle} for adapters on the hot path: `readBody` may give the body at once
   * or as a promise, and the result comes at once when nothing waited (a promise otherwise). A
   * `WebhookError` becomes an answer; any other error is thrown or rejected.
   */
  respond(
    head: HttpRequestHead,
    readBody: (limits: BodyLimits, context: TContext) => unknown,
    context: TContext,
    handlerDeadlineMs?: number,
  ): HttpHandlerResult | Promise<HttpHandlerResult>;
  /** Passes an error the adapter found itself to the configured `onError` hook (checked once, here). */
  notifyError(error: WebhookError, context: TContext): void;
}

/**
 * True for `application/json` and `application/*+json`, with any parameters, as long as a
 * `charset` parameter (if any) is UTF-8: the envelope is UTF-8 JSON.
 */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  if (contentType === 'application/json') return true; // what Kompliant and most clients send
  const [type = '', ...params] = contentType.toLowerCase().split(';');
  const mediaType = type.trim();
  if (mediaType !== 'application/json' && !/^application\/[a-z0-9.!#$&^_-]+\+json$/.test(mediaType)) return false;
  for (const param of params) {
    const [name = '', value = ''] = param.split('=');
    if (name.trim() === 'charset' && !['utf-8', 'utf8', '"utf-8"'].includes(value.trim())) return false;
  }
  return true;
}

/**
 * What the framing headers say about a body: `true` for any Transfer-Encoding or a
 * Content-Length other than 0, `false` for a Content-Length of 0, `undefined` when neither is
 * sent. Takes the values as each runtime gives them (`undefined` from node:http, `null` from
 * Fetch `Headers`).
 */
export function framedBody(transferEncoding: string | null | undefined, contentLength: string | null | undefined): boolean | undefined {
  if (transferEncoding !== undefined && transferEncoding !== null) return true;
  if (contentLength === undefined || contentLength === null) return undefined;
  return contentLength.trim() !== '0';
}

/** True when the request announces a body (`hasBody`, else its framing headers: see {@link framedBody}). */
export function announcesBody(head: HttpRequestHead): boolean {
  if (head.hasBody !== undefined) return head.hasBody;
  return framedBody(head.header('transfer-encoding'), head.header('content-length')) === true;
}

/** Checks method, content coding and content type before the body is read; returns the content coding to undo. */
function checkHeadForCoding(head: HttpRequestHead, allowedEncodings: readonly string[]): string | undefined {
  if (head.method !== 'POST') throw new WebhookError('METHOD_NOT_ALLOWED');
  const coding = checkContentEncoding(head.header('content-encoding'), allowedEncodings);
  // Content-Type first: a JSON request (nearly all) never needs its framing headers read here.
  if (!isJsonContentType(head.header('content-type')) && announcesBody(head)) {
    throw new WebhookError('UNSUPPORTED_MEDIA_TYPE');
  }
  return coding;
}

/** Checks the shared adapter options once and returns the resolved configuration. */
function resolveHttpOptions<TContext, TSchemas extends PayloadSchemas>(
  options: HttpHandlerOptions<TContext, TSchemas>,
  acceptedNames: readonly string[],
  where: string,
) {
  const plan = resolveDeliveryOptions(options);
  const resolved: ResolvedReceiverOptions = resolveReceiverOptions(options, (store) => countingKeyStore(store, plan.stats));
  checkOptionNames(options, acceptedNames, where);
  const encoding = options.contentEncoding ?? 'inflate';
  if (encoding !== 'inflate' && encoding !== 'reject') throw new TypeError("contentEncoding must be 'inflate' or 'reject'");
  return {
    config: resolved,
    plan,
    allowIp: options.allowedIps === undefined ? undefined : createIpAllowList(options.allowedIps),
    allowedEncodings: encoding === 'inflate' ? SUPPORTED_CONTENT_ENCODINGS : [],
    onEvent: checkFunction<(event: KompliantEvent, context: TContext) => unknown>(options.onEvent, 'onEvent'),
    onError: safeHook(checkFunction<(error: WebhookError, context: TContext) => void>(options.onError, 'onError'), plan.observerFailed),
    limits: {
      maxBodyBytes: resolved.maxBodyBytes,
      readTimeoutMs: checkPositiveInteger(options.readTimeoutMs, 'readTimeoutMs', DEFAULT_READ_TIMEOUT_MS),
    },
  };
}

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
  const { config, plan, allowIp, allowedEncodings, onEvent, onError, limits } = resolveHttpOptions(options, acceptedNames, where);

  const fail = (
    started: number,
    error: WebhookError,
    context: TContext,
    event?: KompliantEvent<unknown>,
    trace?: DeliveryChannelMessage,
  ): HttpHandlerResult => {
    reportRejected(plan, started, error, event, trace);
    notifyError(onError, error, context);
    return { kind: 'answer', answer: errorAnswer(error) };
  };

  /**
   * What an error thrown or rejected at any step becomes: a `WebhookError` is the spec's answer;
   * anything else (a bug, a throwing callback) ends the trace as a failure and is thrown on, for
   * the adapter to answer 500.
   */
  const failed = (
    started: number,
    error: unknown,
    context: TContext,
    event: KompliantEvent<unknown> | undefined,
    trace: DeliveryChannelMessage | undefined,
  ): HttpHandlerResult => {
    if (isWebhookError(error)) return fail(started, error, context, event, trace);
    finishDeliveryTrace(trace, 'failed', event, new WebhookError('HANDLER_FAILED', { message: 'Internal error', cause: error }));
    throw error;
  };

  // The steps of one request. Each takes the previous step's value; a step that gets a promise
  // goes on in its reaction, so a request where nothing waits (a body already read or parsed, a
  // cached key, an in-process store, a handler that returns without a promise) is answered
  // without a promise or an async function frame.

  /** A step: what it needs of the request, and the previous step's value. */
  type Step<T> = (
    started: number,
    value: T,
    context: TContext,
    handlerDeadlineMs: number | undefined,
    trace: DeliveryChannelMessage | undefined,
  ) => HttpHandlerResult | Promise<HttpHandlerResult>;

  /**
   * Goes on with `next` once the promise a step got settles; a rejection goes to `failed`, with
   * `event` when one is known. Steps call the next one directly when nothing waits, so these
   * continuations are built only for a request that waits.
   */
  const continueLater = <T>(
    value: Promise<T>,
    next: Step<T>,
    started: number,
    context: TContext,
    handlerDeadlineMs: number | undefined,
    trace: DeliveryChannelMessage | undefined,
    event: KompliantEvent<unknown> | undefined,
  ): Promise<HttpHandlerResult> =>
    value.then(
      (settled) => next(started, settled, context, handlerDeadlineMs, trace),
      (error: unknown) => failed(started, error, context, event, trace),
    );

  /** After the body: the receiver pipeline (envelope rules, key, decryption). */
  const afterBody: Step<unknown> = (started, body, context, handlerDeadlineMs, trace) => {
    let opened: KompliantEvent<PayloadV1> | Promise<KompliantEvent<PayloadV1>>;
    try {
      opened = runPipeline<PayloadV1>(config, body);
    } catch (error) {
      return failed(started, error, context, undefined, trace);
    }
    if (opened instanceof Promise) return continueLater(opened, afterOpen, started, context, handlerDeadlineMs, trace, undefined);
    return afterOpen(started, opened, context, handlerDeadlineMs, trace);
  };

  /** After decryption: the payload schemas, if any. */
  const afterOpen: Step<KompliantEvent<PayloadV1>> = (started, event, context, handlerDeadlineMs, trace) => {
    traceEvent(trace, event);
    let checked: KompliantEvent<PayloadV1> | Promise<KompliantEvent<PayloadV1>>;
    try {
      checked = validatePayload(config.schemas, event, plan.handlerTimeoutMs);
    } catch (error) {
      return failed(started, error, context, event, trace);
    }
    if (checked instanceof Promise) return continueLater(checked, afterValidation, started, context, handlerDeadlineMs, trace, event);
    return afterValidation(started, checked, context, handlerDeadlineMs, trace);
  };

  /** After validation: `onEvent` run once per id, or the claim held for the application (pass-through). */
  const afterValidation: Step<KompliantEvent<PayloadV1>> = (started, event, context, handlerDeadlineMs, trace) => {
    try {
      if (onEvent !== undefined) {
        const delivered = deliver(withHandlerDeadline(plan, handlerDeadlineMs), started, event, (e) => onEvent(e, context), trace);
        if (delivered instanceof Promise) {
          return delivered.then(
            (outcome) => deliveredAnswer(outcome, event),
            (error: unknown) => failed(started, error, context, event, trace),
          );
        }
        return deliveredAnswer(delivered, event);
      }
      const claimed = claimEvent(plan, event);
      if (claimed instanceof Promise) {
        return claimed.then(
          (claim) => passOn(started, event, claim, context, trace),
          (error: unknown) => failed(started, error, context, event, trace),
        );
      }
      return passOn(started, event, claimed, context, trace);
    } catch (error) {
      return failed(started, error, context, event, trace);
    }
  };

  /** Pass-through: the event goes to the application, whose final status settles the claim. */
  const passOn = (
    started: number,
    event: KompliantEvent<PayloadV1>,
    claim: HeldClaim | 'duplicate',
    context: TContext,
    trace: DeliveryChannelMessage | undefined,
  ): HttpHandlerResult => {
    if (claim === 'duplicate') {
      reportDelivered(plan, started, 'duplicate', event, trace);
      return { kind: 'answer', answer: DUPLICATE_ANSWER, event };
    }
    let settled = false;
    const settle = (status: number, reason?: string): void => {
      if (settled) return;
      settled = true;
      const success = status >= 200 && status < 300;
      void claim.settle(success);
      if (success) reportDelivered(plan, started, 'passed', event, trace);
      else fail(started, new WebhookError('HANDLER_FAILED', { message: reason ?? `Application answered ${status}` }), context, event, trace);
    };
    return { kind: 'pass', event, settle };
  };

  return traced({
    limits,
    handlesEvents: onEvent !== undefined,
    notifyError: (error, context) => notifyError(onError, error, context),
    respond(head, readBody, context, handlerDeadlineMs, trace) {
      const started = performance.now();
      countStat(plan.stats, 'received');
      let body: unknown;
      try {
        if (allowIp !== undefined && !allowIp(head.ip)) throw new WebhookError('FORBIDDEN_IP');
        const coding = checkHeadForCoding(head, allowedEncodings);
        const decodedByParser = coding !== undefined && head.bodyDecoded === true; // asked before reading
        body = readBody(limits, context);
        if (coding !== undefined) {
          body =
            body instanceof Promise
              ? body.then((read) => inflateBody(read, coding, limits.maxBodyBytes, decodedByParser))
              : inflateBody(body, coding, limits.maxBodyBytes, decodedByParser);
        }
      } catch (error) {
        return failed(started, error, context, undefined, trace);
      }
      if (body instanceof Promise) return continueLater(body, afterBody, started, context, handlerDeadlineMs, trace, undefined);
      return afterBody(started, body, context, handlerDeadlineMs, trace);
    },
  });
}

/** The answer of a delivery that ran `onEvent` (or found the id done). */
function deliveredAnswer(outcome: DeliveredOutcome, event: KompliantEvent): HttpHandlerResult {
  return { kind: 'answer', answer: outcome === 'duplicate' ? DUPLICATE_ANSWER : RECEIVED_ANSWER, event };
}

/** An {@link HttpHandler} without `handle`, whose `respond` also takes the delivery's channel message. */
interface UntracedHttpHandler<TContext> extends Omit<HttpHandler<TContext>, 'handle' | 'respond'> {
  respond(
    head: HttpRequestHead,
    readBody: (limits: BodyLimits, context: TContext) => unknown,
    context: TContext,
    handlerDeadlineMs: number | undefined,
    trace: DeliveryChannelMessage | undefined,
  ): HttpHandlerResult | Promise<HttpHandlerResult>;
}

/** Publishes each request of `handler` on the delivery channel (see `traceDelivery`), and adds `handle`. */
function traced<TContext>(handler: UntracedHttpHandler<TContext>): HttpHandler<TContext> {
  // The channel is checked first, so a request nobody traces builds no closure for traceDelivery.
  const respond: HttpHandler<TContext>['respond'] = (head, readBody, context, handlerDeadlineMs) =>
    deliveryTraced()
      ? traceDelivery('http', (trace) => handler.respond(head, readBody, context, handlerDeadlineMs, trace))
      : handler.respond(head, readBody, context, handlerDeadlineMs, undefined);
  return {
    limits: handler.limits,
    handlesEvents: handler.handlesEvents,
    notifyError: handler.notifyError,
    respond,
    handle(head, readBody, context, handlerDeadlineMs) {
      try {
        return Promise.resolve(respond(head, readBody, context, handlerDeadlineMs));
      } catch (error) {
        return Promise.reject(error);
      }
    },
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
  readBody: (limits: BodyLimits, context: TContext) => Promise<unknown>,
  context: TContext,
  handlerDeadlineMs?: number,
): Promise<HttpAnswer> {
  let result: HttpHandlerResult;
  try {
    const responded = handler.respond(makeHead(context), readBody, context, handlerDeadlineMs);
    result = responded instanceof Promise ? await responded : responded;
  } catch (cause) {
    const failure = new WebhookError('HANDLER_FAILED', { message: 'Internal error', cause });
    handler.notifyError(failure, context);
    return errorAnswer(failure);
  }
  if (result.kind === 'answer') return result.answer;
  result.settle(500);
  return errorAnswer(new WebhookError('HANDLER_FAILED', { message: 'No onEvent handler' }));
}
