// Runtime smoke suite for Node, Bun and Deno: the built package through its published names.
//
// Run from the repository root after `npm run build`:
//   node test/runtimes/smoke.mjs
//   bun test/runtimes/smoke.mjs
//   deno run --allow-read --allow-env test/runtimes/smoke.mjs
// Prints one line per check and `smoke (<runtime>): N passed, M failed`; exits 1 on any failure.
import { readFileSync } from 'node:fs';
import * as core from 'kompliant-webhooks';
import * as fetchAdapter from 'kompliant-webhooks/fetch';
import * as testing from 'kompliant-webhooks/testing';
import { formatReport, runSmokeChecks, runtimeName } from './smoke-checks.mjs';

const vectors = JSON.parse(readFileSync(new URL('../fixtures/vectors/envelopes.json', import.meta.url), 'utf8'));
const report = formatReport(runtimeName(), await runSmokeChecks({ core, fetchAdapter, testing, vectors }));
console.log(report.text);
if (report.failed > 0 || report.total === 0) process.exit(1);
