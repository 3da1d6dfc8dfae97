// The AWS Lambda adapter: a handler for API Gateway REST API (payload 1.0), HTTP API (payload 2.0) and Lambda Function URL events.
import { decodeBase64Strict } from '../wire/base64.js';
import { WebhookError } from '../wire/errors.js';
import { answerBodyText, answerHeaderPairs, type HttpAnswer } from '../http/answer.js';
import { answerRequest, createHttpHandler, HTTP_HANDLER_OPTION_NAMES, type HttpHandlerOptions } from '../http/handler.js';
import type { HttpRequestHead } from '../http/request.js';
import { checkNonNegativeInteger } from '../options/checks.js';
import { DEFAULT_INVOCATION_MARGIN_MS, invocationDeadline, type LambdaContextLike } from './lambda-invocation.js';
import { optionNames, withoutNames } from '../options/option-names.js';
import type { PayloadSchemas } from '../receiver/payload-schemas.js';

/**
 * The fields of an API Gateway REST API (v1) proxy event this adapter reads. Structural, so
 * `APIGatewayProxyEvent` from `@types/aws-lambda` fits without this package depending on it.
 */
export interface LambdaV1Event {
  httpMethod: string;
  headers?: Record<string, string | undefined> | null;
  multiValueHeaders?: Record<string, string[] | undefined> | null;
  body: string | null;
  isBase64Encoded?: boolean;
  requestContext?: { identity?: { sourceIp?: string | null } | null } | null;
}

/**
 * The fields of an HTTP API (payload 2.0) or Function URL event this adapter reads; fits
 * `APIGatewayProxyEventV2` and `LambdaFunctionURLEvent` from `@types/aws-lambda`.
 */
export interface LambdaV2Event {
  version: string;
  headers?: Record<string, string | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
  requestContext: { http: { method: string; sourceIp?: string } };
}

/** Any event {@link createLambdaHandler} accepts. */
export type LambdaHttpEvent = LambdaV1Event | LambdaV2Event;

/**
 * The result object: valid for REST API (v1), HTTP API (v2) and Function URLs alike
 * (`APIGatewayProxyResult` / `APIGatewayProxyStructuredResultV2`).
 */
export interface LambdaHttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: false;
}

/**
 * Options of {@link createLambdaHandler}: `keyStore` (required), `onEvent` (or `inbox`), `aad`, `layout`,
 * `maxBodyBytes`, `onError`. Hooks receive the Lambda event. There is no `readTimeoutMs`:
 * Lambda delivers the body whole, within API Gateway's own limits.
 */
export interface LambdaHandlerOptions<TEvent extends LambdaHttpEvent = LambdaHttpEvent, TSchemas extends PayloadSchemas = {}>
  extends Omit<HttpHandlerOptions<TEvent, TSchemas>, 'readTimeoutMs'> {
  /** Handles the event; answered 200 once it resolves, 500 HANDLER_FAILED if it throws. Required unless `inbox` is set. */
  onEvent?: HttpHandlerOptions<TEvent, TSchemas>['onEvent'];
  /**
   * Time kept back from the invocation: the delivery's deadline is the smaller of
   * `deliveryTimeoutMs` and `context.getRemainingTimeInMillis()` minus this, so a slow key
   * lookup, schema or handler is answered (503) and logged before Lambda ends the invocation.
   *
   * @defaultValue 1000
   */
  invocationMarginMs?: number;
}

/** A Lambda handler for HTTP events. */
export type LambdaHttpHandler<TEvent extends LambdaHttpEvent = LambdaHttpEvent> = (
  event: TEvent,
  context?: LambdaContextLike,
) => Promise<LambdaHttpResult>;

// Every shared adapter option except the read deadline (the body arrives whole), plus the invocation margin.
const LAMBDA_OPTION_NAMES: readonly string[] = [
  ...withoutNames(HTTP_HANDLER_OPTION_NAMES, 'readTimeoutMs'),
  ...optionNames<Omit<LambdaHandlerOptions, keyof HttpHandlerOptions<LambdaHttpEvent>>>({ invocationMarginMs: true }),
];

function isV2(event: LambdaHttpEvent): event is LambdaV2Event {
  return (event as LambdaV2Event).version === '2.0' && typeof (event as LambdaV2Event).requestContext?.http === 'object';
}

/**
 * Header lookup by lower-case name. API Gateway REST keeps the client's casing, HTTP API and
 * Function URLs lower-case and comma-join repeats. A Map, since names are attacker input.
 */
function headerMap(event: LambdaHttpEvent): Map<string, string> {
  const map = new Map<string, string>();
  const multi = isV2(event) ? undefined : event.multiValueHeaders;
  if (multi) {
    for (const [name, values] of Object.entries(multi)) {
      if (Array.isArray(values)) map.set(name.toLowerCase(), values.join(','));
    }
  }
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    const key = name.toLowerCase();
    if (typeof value === 'string' && !map.has(key)) map.set(key, value);
  }
  return map;
}

function lambdaRequestHead(event: LambdaHttpEvent): HttpRequestHead {
  const headers = headerMap(event);
  const body = event.body;
  return {
    method: isV2(event) ? event.requestContext.http.method : event.httpMethod,
    header: (name) => headers.get(name),
    ip: isV2(event) ? event.requestContext.http.sourceIp : (event.requestContext?.identity?.sourceIp ?? undefined),
    // The body is already here: its presence decides, whatever the (possibly absent) framing headers say.
    hasBody: typeof body === 'string' && body.length > 0,
  };
}

/** The body as text or bytes; a base64 body that does not decode is not JSON. */
function lambdaBody(event: LambdaHttpEvent): string | Uint8Array | undefined {
  const body = event.body;
  if (typeof body !== 'string' || body.length === 0) return undefined;
  if (event.isBase64Encoded !== true) return body;
  const bytes = decodeBase64Strict(body);
  if (bytes === undefined) throw new WebhookError('INVALID_JSON', { message: 'Request body is not valid base64' });
  return bytes;
}

/** {@link lambdaBody} as the handler's body reader. */
function readLambdaBody(_limits: unknown, event: LambdaHttpEvent): string | Uint8Array | undefined {
  return lambdaBody(event);
}

function toResult(answer: HttpAnswer): LambdaHttpResult {
  const headers = Object.fromEntries(answerHeaderPairs(answer, false));
  return { statusCode: answer.status, headers, body: answerBodyText(answer), isBase64Encoded: false };
}

/**
 * Creates a Lambda handler for Kompliant webhooks behind API Gateway REST (v1), HTTP API (v2)
 * or a Function URL: same checks, statuses and error bodies as the other adapters; base64
 * bodies (`isBase64Encoded`) are decoded strictly; `maxBodyBytes` applies to the decoded body.
 * Awaits `onEvent(event, lambdaEvent)` and returns `200 {"received":true}`.
 *
 * Create it at module scope, not inside the exported function: the key store (and any cache
 * in front of it) then lives across warm invocations, and options are checked once at cold start.
 *
 * @example
 * ```ts
 * import { createLambdaHandler } from 'kompliant-webhooks/lambda';
 * import { memoryKeyStore } from 'kompliant-webhooks';
 *
 * export const handler = createLambdaHandler({
 *   keyStore: memoryKeyStore({ whk_20251121_01: process.env.KOMPLIANT_WEBHOOK_SECRET! }),
 *   async onEvent(event) {
 *     await queue.send(event);
 *   },
 * });
 * ```
 */
export function createLambdaHandler<TEvent extends LambdaHttpEvent = LambdaHttpEvent, TSchemas extends PayloadSchemas = {}>(
  options: LambdaHandlerOptions<TEvent, TSchemas>,
): LambdaHttpHandler<TEvent> {
  if (typeof options === 'object' && options !== null && options.onEvent === undefined && options.inbox === undefined) {
    throw new TypeError('createLambdaHandler: onEvent is required, or inbox (a Lambda handler must return a result)');
  }
  const handler = createHttpHandler<TEvent, TSchemas>(options, 'createLambdaHandler', LAMBDA_OPTION_NAMES);
  const marginMs = checkNonNegativeInteger(options.invocationMarginMs, 'invocationMarginMs', DEFAULT_INVOCATION_MARGIN_MS);

  return async function kompliantLambdaHandler(event: TEvent, context?: LambdaContextLike): Promise<LambdaHttpResult> {
    const answer = await answerRequest(handler, lambdaRequestHead, readLambdaBody, event, invocationDeadline(context, marginMs));
    return toResult(answer);
  };
}
