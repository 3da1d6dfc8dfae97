// The runtime smoke checks, plain JavaScript with no test framework, shared by every runtime.
//
// The caller imports the built package (its published entry points) and the shared vectors and
// passes them in, so the same checks run under Node, Bun, Deno and workerd, each of which loads
// modules its own way. Nothing here touches the file system, the network or the environment.

const WEBHOOK_URL = 'http://localhost/webhooks/kompliant';
const KEY_ID = 'whk_20251121_01';

/** Deep equality of JSON-shaped values (key order ignored), like vitest's toStrictEqual for JSON. */
function jsonEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  return aKeys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]));
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** A POST as Kompliant makes it; a `ReadableStream` body makes the handler read a stream. */
function post(body) {
  return new Request(WEBHOOK_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    duplex: 'half',
  });
}

/** The same JSON body as a stream of 7-byte chunks, for the adapter's streaming reader. */
function chunkedStream(text) {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(offset, offset + 7));
      offset += 7;
    },
  });
}

/** The envelope with one bit of its ciphertext flipped (the nonce and tag are left intact). */
function tamper(envelope) {
  const raw = atob(envelope.data);
  const at = 12 + Math.floor((raw.length - 28) / 2);
  const flipped = raw.slice(0, at) + String.fromCharCode(raw.charCodeAt(at) ^ 1) + raw.slice(at + 1);
  return { ...envelope, data: btoa(flipped) };
}

/** Calls the Fetch handler and returns the status and the parsed JSON answer. */
async function answer(handler, request) {
  const response = await handler(request);
  check(response instanceof Response, 'the handler did not return a Response');
  const type = response.headers.get('content-type') ?? '';
  check(type.startsWith('application/json'), `content-type ${type}`);
  return { status: response.status, body: await response.json() };
}

/**
 * Runs every check and returns `{ results: [{ name, ok, detail }] }`.
 *
 * @param {object} p
 * @param {object} p.core the module `kompliant-webhooks`
 * @param {object} p.fetchAdapter the module `kompliant-webhooks/fetch`
 * @param {object} p.testing the module `kompliant-webhooks/testing`
 * @param {{ keys: Record<string, string>, cases: Array<{ name: string, body: string, expect: { status: number, code?: string, event?: object } }> }} p.vectors
 *   the shared vectors, test/fixtures/vectors/envelopes.json
 * @param {{ label: string, post: (body: string) => Promise<Response> }} [p.served] optional: the
 *   runtime's own server (Bun.serve, Deno.serve, a Workers fetch export) running
 *   `createFetchHandler({ keyStore: memoryKeyStore(vectors.keys), onEvent })`; `post` sends a
 *   body to it, and every vector is checked through it too
 */
export async function runSmokeChecks({ core, fetchAdapter, testing, vectors, served }) {
  const { createWebhookReceiver, isWebhookError, memoryKeyStore, openEnvelope } = core;
  const { createFetchHandler } = fetchAdapter;
  const { createTestWebhook, generateSharedSecret } = testing;
  const results = [];
  async function run(name, body) {
    try {
      await body();
      results.push({ name, ok: true });
    } catch (error) {
      results.push({ name, ok: false, detail: error instanceof Error ? error.message : String(error) });
    }
  }

  const secret = generateSharedSecret();
  const data = { version: '1.0', note: 'runtime smoke', nested: { n: 1, list: [true, null, 'é'] } };
  const sealed = createTestWebhook({ secret, keyId: KEY_ID, eventType: 'DOCUMENT_UPLOADED', data });
  const keyStore = memoryKeyStore({ [KEY_ID]: secret });

  await run('testing: generateSharedSecret gives base64 of 32 bytes', () => {
    check(core.isValidSharedSecret(secret), 'not a valid shared secret');
    check(atob(secret).length === 32, `${atob(secret).length} bytes`);
    check(generateSharedSecret() !== secret, 'two secrets are equal');
  });

  await run('testing: createTestWebhook seals; openEnvelope opens it', () => {
    const event = openEnvelope(sealed, secret);
    check(event.id === sealed.id, 'id differs');
    check(event.event_type === 'DOCUMENT_UPLOADED', `event_type ${event.event_type}`);
    check(jsonEqual(event.data, data), 'data differs');
  });

  /** Passes when `body` throws or rejects with a WebhookError of this code. */
  async function failsWith(code, body) {
    try {
      await body();
    } catch (error) {
      check(isWebhookError(error), 'not a WebhookError');
      check(error.code === code, `code ${error.code}, expected ${code}`);
      return;
    }
    throw new Error(`no ${code}: it succeeded`);
  }

  await run('openEnvelope refuses a tampered ciphertext with DECRYPTION_FAILED', () =>
    failsWith('DECRYPTION_FAILED', () => openEnvelope(tamper(sealed), secret)),
  );

  await run('createWebhookReceiver().receive decrypts the sealed webhook', async () => {
    const event = await createWebhookReceiver({ keyStore }).receive(JSON.stringify(sealed));
    check(event.id === sealed.id, 'id differs');
    check(jsonEqual(event.data, data), 'data differs');
  });

  await run('createWebhookReceiver().receive rejects a tampered one with DECRYPTION_FAILED', () =>
    failsWith('DECRYPTION_FAILED', () => createWebhookReceiver({ keyStore }).receive(JSON.stringify(tamper(sealed)))),
  );

  await run('fetch: a sealed webhook from a streamed body is 200 and reaches onEvent', async () => {
    const seen = [];
    const handler = createFetchHandler({ keyStore, onEvent: (event) => void seen.push(event) });
    const { status, body } = await answer(handler, post(chunkedStream(JSON.stringify(sealed))));
    check(status === 200, `status ${status} ${JSON.stringify(body)}`);
    check(jsonEqual(body, { received: true }), `body ${JSON.stringify(body)}`);
    check(seen.length === 1 && seen[0].id === sealed.id && jsonEqual(seen[0].data, data), 'onEvent did not get the event');
  });

  await run('fetch: a tampered webhook is 401 DECRYPTION_FAILED and never reaches onEvent', async () => {
    let calls = 0;
    const handler = createFetchHandler({ keyStore, onEvent: () => void calls++ });
    const { status, body } = await answer(handler, post(JSON.stringify(tamper(sealed))));
    check(status === 401, `status ${status}`);
    check(body?.error?.code === 'DECRYPTION_FAILED', `code ${body?.error?.code}`);
    check(calls === 0, 'onEvent was called');
  });

  await run('fetch: a throwing onEvent is 500 HANDLER_FAILED (so the sender retries)', async () => {
    const handler = createFetchHandler({
      keyStore,
      onEvent: () => {
        throw new Error('handler down');
      },
    });
    const { status, body } = await answer(handler, post(JSON.stringify(sealed)));
    check(status === 500, `status ${status}`);
    check(body?.error?.code === 'HANDLER_FAILED', `code ${body?.error?.code}`);
  });

  await run('the shared vectors are loaded', () => {
    check(vectors.cases.length >= 14, `${vectors.cases.length} cases`);
  });

  for (const vector of vectors.cases) {
    await run(`vector via createFetchHandler: ${vector.name}`, async () => {
      const seen = [];
      const handler = createFetchHandler({ keyStore: memoryKeyStore(vectors.keys), onEvent: (event) => void seen.push(event) });
      const { status, body } = await answer(handler, post(vector.body));
      check(status === vector.expect.status, `status ${status}, expected ${vector.expect.status}`);
      if (vector.expect.status === 200) {
        check(jsonEqual(body, { received: true }), `body ${JSON.stringify(body)}`);
        check(seen.length === 1, `onEvent called ${seen.length} times`);
        check(jsonEqual(seen[0], vector.expect.event), 'the event differs from the vector');
      } else {
        check(body?.error?.code === vector.expect.code, `code ${body?.error?.code}, expected ${vector.expect.code}`);
        check(seen.length === 0, 'onEvent was called');
      }
    });
  }

  if (served) {
    for (const vector of vectors.cases) {
      await run(`vector via ${served.label}: ${vector.name}`, async () => {
        const response = await served.post(vector.body);
        const body = await response.json();
        check(response.status === vector.expect.status, `status ${response.status}, expected ${vector.expect.status}`);
        if (vector.expect.status === 200) check(jsonEqual(body, { received: true }), `body ${JSON.stringify(body)}`);
        else check(body?.error?.code === vector.expect.code, `code ${body?.error?.code}, expected ${vector.expect.code}`);
      });
    }
  }

  return { results };
}

/** The name and version of the runtime running this. */
export function runtimeName() {
  if (typeof globalThis.Bun !== 'undefined') return `bun ${globalThis.Bun.version}`;
  if (typeof globalThis.Deno !== 'undefined') return `deno ${globalThis.Deno.version.deno}`;
  if (globalThis.navigator?.userAgent === 'Cloudflare-Workers') return 'workerd';
  if (typeof globalThis.process !== 'undefined') return `node ${globalThis.process.version}`;
  return 'unknown runtime';
}

/** The report as text: one line per check, then `N passed, M failed`. */
export function formatReport(label, { results }) {
  const failed = results.filter((r) => !r.ok);
  const lines = results.map((r) => (r.ok ? `ok - ${r.name}` : `not ok - ${r.name}: ${r.detail}`));
  lines.push(`smoke (${label}): ${results.length - failed.length} passed, ${failed.length} failed`);
  return { text: lines.join('\n'), failed: failed.length, total: results.length };
}
