// The `schemas` option: a Standard Schema per event type, checked on the authenticated payload (spec section 7, "Payload validation").
import { WebhookError } from '../wire/errors.js';
import type { KnownKompliantEvent, KompliantEvent, UnknownKompliantEvent } from '../wire/event.js';
import type { StandardSchemaV1 } from '../wire/standard-schema.js';
import { isThenable, withDeadline } from '../delivery/deadline.js';

/** A Standard Schema (zod, valibot, arktype, ...) per `event_type`; types without one pass unvalidated. */
export type PayloadSchemas = { readonly [eventType: string]: StandardSchemaV1 };

/** The `data` type a schema produces (its output type). */
export type SchemaOutput<TSchema> = TSchema extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<TSchema> : never;

/** The event of one schema'd type: `data` typed by its schema. */
export type SchemaTypedEvent<TSchemas, TType extends keyof TSchemas & string> = KompliantEvent<SchemaOutput<TSchemas[TType]>> & {
  event_type: TType;
};

/**
 * The event a handler receives when the entry point has `schemas`: for each schema'd type, an
 * event whose `data` is the schema's output; any other type is a `KompliantEvent` (one of the
 * documented types, or an `UnknownKompliantEvent`). With no schemas (or schemas typed only as
 * `PayloadSchemas`) it is `KompliantEvent`. `Extract<SchemaEvent<S>, { event_type: 'X' }>`
 * picks one type's event; `createEventRouter({ schemas })` narrows per handler.
 */
export type SchemaEvent<TSchemas = {}> = string extends keyof TSchemas
  ? KompliantEvent // schemas known only as a record of any type names: nothing to narrow by
  :
      | { [K in keyof TSchemas & string]: SchemaTypedEvent<TSchemas, K> }[keyof TSchemas & string]
      | Exclude<KnownKompliantEvent, { event_type: keyof TSchemas }>
      | UnknownKompliantEvent;

const MAX_LISTED_PATHS = 10;
const MAX_SEGMENT_LENGTH = 64;

/** Checks the `schemas` option once into a map (so `__proto__` or `constructor` never finds an inherited value). */
export function resolvePayloadSchemas(value: unknown): ReadonlyMap<string, StandardSchemaV1> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('schemas must be an object of Standard Schemas by event type');
  }
  const schemas = new Map<string, StandardSchemaV1>();
  for (const [eventType, schema] of Object.entries(value)) {
    const props = (schema as { '~standard'?: { version?: unknown; validate?: unknown } } | null)?.['~standard'];
    if (typeof props !== 'object' || props === null || props.version !== 1 || typeof props.validate !== 'function') {
      throw new TypeError(`schemas.${eventType} must be a Standard Schema (version 1, with ~standard.validate)`);
    }
    schemas.set(eventType, schema as StandardSchemaV1);
  }
  return schemas.size === 0 ? undefined : schemas;
}

/** One path segment as text: identifiers as `.name`, indices as `[0]`, other keys quoted and cut short. */
function segmentText(segment: PropertyKey | StandardSchemaV1.PathSegment): string {
  const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
  if (typeof key === 'number') return `[${key}]`;
  if (typeof key === 'symbol') return '[symbol]';
  const text = String(key);
  if (/^[A-Za-z_$][\w$]{0,63}$/.test(text)) return `.${text}`;
  if (/^(0|[1-9]\d{0,9})$/.test(text)) return `[${text}]`;
  return `[${JSON.stringify(text.slice(0, MAX_SEGMENT_LENGTH))}]`;
}

/**
 * The failing paths of `issues` (never their messages, which may quote values), listed once each;
 * `(root)` for an issue without a path, and for a failure that lists no issue.
 */
export function failingPaths(issues: ReadonlyArray<StandardSchemaV1.Issue>): string[] {
  const paths = new Set<string>();
  for (const issue of issues) {
    const path = Array.isArray(issue?.path) ? issue.path : [];
    const text = path.map(segmentText).join('');
    paths.add(text === '' ? '(root)' : text.startsWith('.') ? text.slice(1) : text);
  }
  return paths.size === 0 ? ['(root)'] : [...paths];
}

/** The 400 for a payload its schema refused: the failing paths, never a value. */
function invalidPayload(eventType: string, issues: ReadonlyArray<StandardSchemaV1.Issue>): WebhookError {
  const paths = failingPaths(issues);
  const listed = paths.slice(0, MAX_LISTED_PATHS).join(', ');
  const more = paths.length > MAX_LISTED_PATHS ? ` and ${paths.length - MAX_LISTED_PATHS} more` : '';
  return new WebhookError('INVALID_PAYLOAD', { message: `Payload does not match the ${eventType} schema at: ${listed}${more}` });
}

/** The event with `data` replaced by the schema's output, or the 400 for its issues. */
function applyResult<TData>(event: KompliantEvent<TData>, result: unknown): KompliantEvent<TData> {
  if (typeof result !== 'object' || result === null) {
    throw new WebhookError('HANDLER_FAILED', { message: 'Payload schema returned no result' });
  }
  const { issues, value } = result as { issues?: ReadonlyArray<StandardSchemaV1.Issue>; value?: unknown };
  if (issues !== undefined) throw invalidPayload(event.event_type, Array.isArray(issues) ? issues : []);
  return { ...event, data: value as TData };
}

/**
 * Validates an authenticated event's `data` against the schema of its type, if there is one.
 * Returns the event (with `data` as the schema's output) synchronously when the schema answers
 * synchronously; an async schema gets `timeoutMs` (503 HANDLER_TIMEOUT after that). A failure is
 * 400 INVALID_PAYLOAD naming the failing paths; a schema that throws is 500 HANDLER_FAILED.
 */
export function validatePayload<TData>(
  schemas: ReadonlyMap<string, StandardSchemaV1> | undefined,
  event: KompliantEvent<TData>,
  timeoutMs: number,
): KompliantEvent<TData> | Promise<KompliantEvent<TData>> {
  const schema = schemas?.get(event.event_type);
  if (schema === undefined) return event;
  let result: unknown;
  try {
    result = schema['~standard'].validate(event.data);
  } catch (cause) {
    throw new WebhookError('HANDLER_FAILED', { message: 'Payload schema threw', cause });
  }
  if (!isThenable(result)) return applyResult(event, result);
  const pending = result;
  return withDeadline(
    () =>
      Promise.resolve(pending).then(
        (settled) => applyResult(event, settled),
        (cause: unknown) => {
          throw new WebhookError('HANDLER_FAILED', { message: 'Payload schema threw', cause });
        },
      ),
    timeoutMs,
    () => new WebhookError('HANDLER_TIMEOUT', { message: 'Payload schema did not finish in time' }),
  );
}
