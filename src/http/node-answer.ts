// Writes an HTTP answer to a node:http ServerResponse.
import type { ServerResponse } from 'node:http';
import { answerBodyText, answerHeaderPairs, type HttpAnswer } from './answer.js';

/**
 * Writes an {@link HttpAnswer} to a node:http response as JSON, unless headers already went out.
 * Headers set earlier on `res` (by other middleware) are kept, except those the answer sets.
 * The body stays a string: node:http sends a string body in one write with the head.
 */
export function writeNodeAnswer(res: ServerResponse, answer: HttpAnswer): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const body = answerBodyText(answer);
  const headers = answerHeaderPairs(answer, true).flat();
  headers.push('content-length', String(Buffer.byteLength(body, 'utf8')));
  res.writeHead(answer.status, headers);
  res.end(body, 'utf8');
}
