// Writes an HTTP answer to a node:http ServerResponse.
import type { ServerResponse } from 'node:http';
import { answerBodyText, answerHeaderPairs, type HttpAnswer } from './answer.js';

/**
 * An {@link HttpAnswer} ready for the wire: raw header pairs (Content-Length the body's UTF-8
 * byte length) and the JSON text. The body stays a string: node:http sends a string body in one
 * write with the head, a Buffer as a second chunk.
 */
interface EncodedAnswer {
  status: number;
  headers: string[];
  body: string;
}

// Frozen answers (the 200s every delivery gets) are encoded once, not per request.
const encodedFrozen = new WeakMap<HttpAnswer, EncodedAnswer>();

function encodeAnswer(answer: HttpAnswer): EncodedAnswer {
  const body = answerBodyText(answer);
  const headers = answerHeaderPairs(answer, true).flat();
  headers.push('content-length', String(Buffer.byteLength(body, 'utf8')));
  return { status: answer.status, headers, body };
}

/**
 * Writes an {@link HttpAnswer} to a node:http response as JSON, unless headers already went out.
 * Headers set earlier on `res` (by other middleware) are kept, except those the answer sets.
 */
export function writeNodeAnswer(res: ServerResponse, answer: HttpAnswer): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  let encoded = encodedFrozen.get(answer);
  if (encoded === undefined) {
    encoded = encodeAnswer(answer);
    if (Object.isFrozen(answer)) encodedFrozen.set(answer, encoded);
  }
  // One writeHead with raw pairs: what setHeader per header would do, without its per-call work.
  res.writeHead(encoded.status, encoded.headers);
  res.end(encoded.body, 'utf8');
}
