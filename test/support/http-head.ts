// A request head for the framework-free HTTP handler, as an adapter builds one.
import type { HttpRequestHead } from '../../src/http/request.js';

/**
 * A JSON POST announcing a body (`content-type: application/json`, `content-length: 1`) from
 * 127.0.0.1; `headers` adds or replaces headers (an `undefined` value removes one), the other
 * overrides replace fields of the head.
 */
export function httpHead(overrides: Partial<HttpRequestHead> & { headers?: Record<string, string | undefined> } = {}): HttpRequestHead {
  const headers = new Map(Object.entries({ 'content-type': 'application/json', 'content-length': '1', ...overrides.headers }));
  return { method: 'POST', header: (name) => headers.get(name), ip: '127.0.0.1', ...overrides };
}
