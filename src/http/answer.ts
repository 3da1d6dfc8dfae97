// The HTTP answer, written once: its status, headers and JSON body, and how every runtime's writer puts it on the wire.
import type { WebhookError } from '../wire/errors.js';

/** An answer for the adapter to write: status, extra headers and a JSON body. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * The answer for a `WebhookError`: its status and `{"error":{"code","message"}}`. 405 carries
 * `Allow: POST`; 413 and 408 ask to close the connection, since the body was not fully read.
 */
export function errorAnswer(error: WebhookError): HttpAnswer {
  const headers: Record<string, string> = {};
  if (error.code === 'METHOD_NOT_ALLOWED') headers.allow = 'POST';
  if (error.code === 'PAYLOAD_TOO_LARGE' || error.code === 'REQUEST_TIMEOUT') headers.connection = 'close';
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
