/**
 * The Fetch API adapter: one `(request: Request) => Promise<Response>` function for any
 * runtime with Web-standard `Request`/`Response` (Next.js route handlers, Hono, Bun.serve,
 * Deno.serve, workers with node:crypto).
 *
 * @packageDocumentation
 */
export * from './adapters/fetch.js';
