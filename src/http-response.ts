import type { ServerResponse } from 'node:http';
import type { HttpAnswer } from './http-handler.js';

/** Writes an {@link HttpAnswer} to a node:http response as JSON, unless headers already went out. */
export function writeNodeAnswer(res: ServerResponse, answer: HttpAnswer): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const text = JSON.stringify(answer.body);
  res.statusCode = answer.status;
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.setHeader('cache-control', 'no-store');
  res.end(text);
}
