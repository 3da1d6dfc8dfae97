// The HTTP answer, written once: its status, headers and JSON body, and how every runtime's writer puts it on the wire.
import type { WebhookError } from '../wire/errors.js';

/** An answer for the adapter to write: status, extra headers and a JSON body. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * Codes answered before the body is read, or while it is being read (413, 408): the answer asks
 * to close the connection, so the runtime stops reading the rest of the body instead of reading
 * it all to reuse the connection (spec section 7, "The body is read only when it will be used").
 */
const CLOSING_CODES: ReadonlySet<string> = new Set([
  'METHOD_NOT_ALLOWED',
  'UNSUPPORTED_MEDIA_TYPE',
  'FORBIDDEN_IP',
  'PAYLOAD_TOO_LARGE',
  'REQUEST_TIMEOUT',
]);

/**
 * The answer for a `WebhookError`: its status and `{"error":{"code","message"}}`. 405 carries
 * `Allow: POST`; 405, 415, 403, 413 and 408 carry `Connection: close`, since the body was not
 * (fully) read.
 */
export function errorAnswer(error: WebhookError): HttpAnswer {
  const headers: Record<string, string> = {};
  if (error.code === 'METHOD_NOT_ALLOWED') headers.allow = 'POST';
  if (CLOSING_CODES.has(error.code)) headers.connection = 'close';
  return { status: error.status, headers, body: error.toJSON() };
}

/** The answer to a handled event. */
export const RECEIVED_ANSWER: HttpAnswer = Object.freeze({ status: 200, headers: Object.freeze({}), body: Object.freeze({ received: true }) });

/** The answer to a delivery of an id already handled: 200, handler not called. */
export const DUPLICATE_ANSWER: HttpAnswer = Object.freeze({
  status: 200,
  headers: Object.freeze({}),
  body: Object.freeze({ received: true, duplicate: true }),
});

/** The headers every answer carries, after the answer's own. */
const CONTENT_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['content-type', 'application/json; charset=utf-8'],
  ['cache-control', 'no-store'],
];

/**
 * The header pairs to send for `answer`: its own headers, then the content headers. Runtimes that
 * manage the connection themselves (Fetch, Lambda, Fastify) pass `keepConnection: false`, which
 * leaves out the hop-by-hop `Connection` header.
 */
export function answerHeaderPairs(answer: HttpAnswer, keepConnection: boolean): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(answer.headers)) {
    if (keepConnection || name.toLowerCase() !== 'connection') pairs.push([name, value]);
  }
  for (const [name, value] of CONTENT_HEADERS) pairs.push([name, value]);
  return pairs;
}

/** The answer's body as the JSON text sent. */
export function answerBodyText(answer: HttpAnswer): string {
  return JSON.stringify(answer.body);
}
