// The `schemas` option at the edges: what counts as a Standard Schema, how failing paths are named and cut, and schemas that answer badly.
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createWebhookReceiver, isWebhookError, memoryKeyStore, type PayloadV1, type StandardSchemaV1, type WebhookError } from '../../src/index.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';

const KEY_ID = 'whk_20251121_01';
const SECRET = generateSharedSecret();
const keyStore = memoryKeyStore({ [KEY_ID]: SECRET });
const VALUE_MARKER = 'VALUE_MARKER_5d21';
const TYPE = 'WORKFLOW_COMPLETED';

/** A hand-written Standard Schema whose validate answers `result`. */
const answering = (result: unknown): StandardSchemaV1 => ({ '~standard': { version: 1, vendor: 'test', validate: () => result as never } });

/** The WebhookError receiving `data` with `schema` for its type gives, checking the handler never ran. */
async function refusal(schema: StandardSchemaV1, data: unknown): Promise<WebhookError> {
  const handler = vi.fn();
  const receiver = createWebhookReceiver({ keyStore, schemas: { [TYPE]: schema }, logger: false });
  const error = await receiver.handle(createTestWebhook({ secret: SECRET, keyId: KEY_ID, eventType: TYPE, data: data as PayloadV1 }), handler).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(handler).not.toHaveBeenCalled();
  if (!isWebhookError(error)) throw new Error(`expected a WebhookError, got ${String(error)}`);
  return error;
}

/** The failing paths listed in an INVALID_PAYLOAD message. */
async function listedPaths(schema: StandardSchemaV1, data: unknown): Promise<string> {
  const error = await refusal(schema, data);
  expect(error.code).toBe('INVALID_PAYLOAD');
  return error.message.replace(`Payload does not match the ${TYPE} schema at: `, '');
}

describe('what the schemas option takes as a Standard Schema', () => {
  it.each([
    ['~standard is null', { '~standard': null }],
    ['version 2', { '~standard': { version: 2, vendor: 'test', validate: () => ({ value: 1 }) } }],
    ['no validate', { '~standard': { version: 1, vendor: 'test' } }],
    ['validate not a function', { '~standard': { version: 1, vendor: 'test', validate: 'zod' } }],
  ])('%s: refused at start-up with a TypeError naming the event type', (_name, schema) => {
    expect(() => createWebhookReceiver({ keyStore, schemas: { [TYPE]: schema as never } })).toThrow(
      new TypeError(`schemas.${TYPE} must be a Standard Schema (version 1, with ~standard.validate)`),
    );
  });
});

describe('the failing paths an INVALID_PAYLOAD names', () => {
  it('a key that is no identifier is quoted, from the first segment on', async () => {
    expect(await listedPaths(z.object({ 'first-name': z.string() }), { 'first-name': 5 })).toBe('["first-name"]');
  });

  it('record keys: digits as an index, other keys quoted', async () => {
    const schema = z.object({ scores: z.record(z.string(), z.number()) });
    const scores = { 5: 'x', 12: 'x', 1234567890: 'x', '007': 'x', '12345678901': 'x', 'a b': 'x' };
    expect(await listedPaths(schema, { scores })).toBe('scores[5], scores[12], scores[1234567890], scores["007"], scores["12345678901"], scores["a b"]');
  });

  it('a long key, a name or not, is quoted by its first 64 characters (record keys are data)', async () => {
    const schema = z.object({ scores: z.record(z.string(), z.number()) });
    const [name, other] = [`${'a'.repeat(64)}${VALUE_MARKER}`, `${'-'.repeat(64)}${VALUE_MARKER}`];
    expect(await listedPaths(schema, { scores: { [name]: 'x', [other]: 'x' } })).toBe(`scores["${'a'.repeat(64)}"], scores["${'-'.repeat(64)}"]`);
  });

  it('a symbol key is [symbol], never its description; path segments may be { key } objects', async () => {
    const schema = answering({ issues: [{ message: 'bad', path: [{ key: 'meta' }, Symbol(VALUE_MARKER), { key: Symbol(VALUE_MARKER) }, { key: 0 }] }] });
    expect(await listedPaths(schema, {})).toBe('meta[symbol][symbol][0]');
  });

  it('an issue without a path is (root)', async () => {
    expect(await listedPaths(answering({ issues: [{ message: 'bad' }] }), {})).toBe('(root)');
  });

  it('issues that name no path at all (an empty list, or not a list) still say (root)', async () => {
    expect(await listedPaths(answering({ issues: [] }), {})).toBe('(root)');
    expect(await listedPaths(answering({ issues: 'bad' }), {})).toBe('(root)');
  });

  it('a malformed issue (null, or a null path segment) is still 400 INVALID_PAYLOAD, not a crash', async () => {
    for (const issues of [[null], [{ message: 'bad', path: [null, 'amount'] }]]) {
      expect(await refusal(answering({ issues }), {})).toMatchObject({ code: 'INVALID_PAYLOAD', status: 400 });
    }
  });

  it('lists at most 10 paths, then says how many more', async () => {
    const fields = (count: number) => Array.from({ length: count }, (_, i) => `f${i}`);
    const schemaOf = (count: number) => z.object(Object.fromEntries(fields(count).map((name) => [name, z.string()])));
    expect(await listedPaths(schemaOf(10), {})).toBe(fields(10).join(', '));
    expect(await listedPaths(schemaOf(13), {})).toBe(`${fields(10).join(', ')} and 3 more`);
  });
});

describe('a schema that answers neither a value nor issues', () => {
  it.each([['a string', 'ok'], ['a number', 42], ['true', true], ['null', null], ['undefined', undefined]])(
    'validate returning %s: 500 HANDLER_FAILED, the payload is not accepted',
    async (_name, result) => {
      expect(await refusal(answering(result), {})).toMatchObject({ code: 'HANDLER_FAILED', status: 500, message: 'Payload schema returned no result' });
    },
  );
});
