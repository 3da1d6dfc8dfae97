// Runtime smoke suite for Node, Bun and Deno: the built package through its published names.
//
// Run from the repository root after `npm run build`:
//   node test/runtimes/smoke.mjs
//   bun test/runtimes/smoke.mjs
//   deno run --allow-read --allow-net=127.0.0.1 test/runtimes/smoke.mjs
// Under Bun and Deno the vectors also go over loopback HTTP to the runtime's own server
// (`Bun.serve({ fetch: handler })`, `Deno.serve(handler)`), as the README shows.
// Prints one line per check and `smoke (<runtime>): N passed, M failed`; exits 1 on any failure.
import { readFileSync } from 'node:fs';
import * as core from 'kompliant-webhooks';
import * as fetchAdapter from 'kompliant-webhooks/fetch';
import * as testing from 'kompliant-webhooks/testing';
import { formatReport, runSmokeChecks, runtimeName } from './smoke-checks.mjs';

const vectors = JSON.parse(readFileSync(new URL('../fixtures/vectors/envelopes.json', import.meta.url), 'utf8'));

/** The runtime's own HTTP server on a loopback port, running the Fetch handler; none under Node. */
async function startServer() {
  const handler = fetchAdapter.createFetchHandler({ keyStore: core.memoryKeyStore(vectors.keys), onEvent: () => {} });
  if (typeof globalThis.Bun !== 'undefined') {
    const server = globalThis.Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: handler });
    return { label: 'Bun.serve over HTTP', url: `http://127.0.0.1:${server.port}/webhooks/kompliant`, close: () => server.stop(true) };
  }
  if (typeof globalThis.Deno !== 'undefined') {
    const server = globalThis.Deno.serve({ hostname: '127.0.0.1', port: 0, onListen() {} }, handler);
    return { label: 'Deno.serve over HTTP', url: `http://127.0.0.1:${server.addr.port}/webhooks/kompliant`, close: () => server.shutdown() };
  }
  return undefined;
}

const server = await startServer();
const served = server && {
  label: server.label,
  post: (body) => fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
};
let report;
try {
  report = formatReport(runtimeName(), await runSmokeChecks({ core, fetchAdapter, testing, vectors, served }));
} finally {
  await server?.close();
}
console.log(report.text);
if (report.failed > 0 || report.total === 0) process.exit(1);
