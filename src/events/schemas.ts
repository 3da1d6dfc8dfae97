// Built-in Standard Schemas (v1) of the ten documented event types' payloads: the published required fields, forward compatible, no dependency.
import type { KnownEventDataByType, KnownEventType } from '../wire/event.js';
import type { StandardSchemaV1 } from '../wire/standard-schema.js';

/** The Standard Schema of one documented event type's `data`: validates, never transforms. */
export interface KompliantEventSchema<T extends KnownEventType> extends StandardSchemaV1<KnownEventDataByType[T]> {
  /** The event type this schema is for. */
  readonly eventType: T;
}

/** One schema per documented event type: the type of {@link kompliantSchemas}. */
export type KompliantSchemas = { readonly [T in KnownEventType]: KompliantEventSchema<T> };

type Path = ReadonlyArray<PropertyKey>;
type Issues = StandardSchemaV1.Issue[];
type Record_ = Record<string, unknown>;

/** `1.0`, `1.1`, `1.12`, ...: any minor of major version 1 (a new minor only adds fields). */
const VERSION_1 = /^1\.\d{1,9}$/;

function isObject(value: unknown): value is Record_ {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Issue messages name the expectation, never the value (a payload may hold personal data).
function issue(issues: Issues, path: Path, message: string): void {
  issues.push({ message, path: [...path] });
}

function own(object: Record_, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** A required string field. */
function requireString(object: Record_, key: string, path: Path, issues: Issues): void {
  if (typeof own(object, key) !== 'string') issue(issues, [...path, key], 'expected a string');
}

/** An optional string field: absent (or null: not sent as a value) passes, another type fails. */
function optionalString(object: Record_, key: string, path: Path, issues: Issues): void {
  const value = own(object, key);
  if (value !== undefined && value !== null && typeof value !== 'string') issue(issues, [...path, key], 'expected a string when present');
}

/** A required object field; returns it when it is one. */
function requireObject(object: Record_, key: string, path: Path, issues: Issues): Record_ | undefined {
  const value = own(object, key);
  if (isObject(value)) return value;
  issue(issues, [...path, key], 'expected an object');
  return undefined;
}

/** A required array of objects; calls `each` on every object item. */
function requireObjects(object: Record_, key: string, path: Path, issues: Issues, each: (item: Record_, path: Path) => void): void {
  const value = own(object, key);
  if (!Array.isArray(value)) {
    issue(issues, [...path, key], 'expected an array');
    return;
  }
  value.forEach((item: unknown, index) => {
    if (isObject(item)) each(item, [...path, key, index]);
    else issue(issues, [...path, key, index], 'expected an object');
  });
}

/** The fields every payload 1.0 has (the `webhook-structure-1_0` page). */
function checkCommon(data: Record_, issues: Issues): void {
  const version = own(data, 'version');
  if (typeof version !== 'string' || !VERSION_1.test(version)) issue(issues, ['version'], 'expected a 1.x version string');
  requireString(data, 'subject_record_id', [], issues);
  const userContext = requireObject(data, 'user_context', [], issues);
  if (userContext !== undefined) {
    requireString(userContext, 'user_id', ['user_context'], issues);
    requireString(userContext, 'user_type', ['user_context'], issues);
  }
  optionalString(data, 'workflow_id', [], issues);
  optionalString(data, 'workflow_type', [], issues);
}

/** Entity groups of `entities` with the id field each entity carries (business has one of three). */
const ENTITY_ID_FIELDS: ReadonlyArray<[group: string, idField: string | undefined]> = [
  ['business', undefined],
  ['persons', 'person_id'],
  ['bank_accounts', 'bank_account_id'],
  ['sales_info', 'sales_info_id'],
];

function checkEntities(data: Record_, issues: Issues): void {
  const entities = requireObject(data, 'entities', [], issues);
  if (entities === undefined) return;
  for (const [group, idField] of ENTITY_ID_FIELDS) {
    if (own(entities, group) === undefined) continue;
    requireObjects(entities, group, ['entities'], issues, (entity, path) => {
      if (idField !== undefined) requireString(entity, idField, path, issues);
      const fields = own(entity, 'fields');
      if (!Array.isArray(fields) || !fields.every((field) => typeof field === 'string')) issue(issues, [...path, 'fields'], 'expected an array of strings');
    });
  }
}

function checkProvisioning(data: Record_, issues: Issues): void {
  const provisioning = requireObject(data, 'provisioning_data', [], issues);
  if (provisioning === undefined) return;
  const path = ['provisioning_data'];
  requireString(provisioning, 'provisioning_type', path, issues);
  requireString(provisioning, 'status', path, issues);
  requireObjects(provisioning, 'execution_results', path, issues, (result, resultPath) => {
    requireString(result, 'status', resultPath, issues);
    const errors = own(result, 'errors');
    if (errors !== undefined && errors !== null && !Array.isArray(errors)) issue(issues, [...resultPath, 'errors'], 'expected an array when present');
  });
}

const EXTRA_CHECKS: { readonly [T in KnownEventType]: ((data: Record_, issues: Issues) => void) | undefined } = {
  WORKFLOW_CREATED: undefined,
  WORKFLOW_STARTED: undefined,
  WORKFLOW_COMPLETED: undefined,
  SUBJECT_RECORD_DATA_UPDATED: checkEntities,
  SUBJECT_RECORD_UNDERWRITING_STATUS_UPDATED: (data, issues) => requireString(data, 'underwriting_status', [], issues),
  DECISION_DOCUMENT_GENERATED: (data, issues) => requireString(data, 'decision_document_id', [], issues),
  MBTRUST_SUCCESS: checkProvisioning,
  MBTRUST_FAILURE: checkProvisioning,
  PROPAY_SUCCESS: checkProvisioning,
  PROPAY_FAILURE: checkProvisioning,
};

function createSchema<T extends KnownEventType>(eventType: T): KompliantEventSchema<T> {
  const extra = EXTRA_CHECKS[eventType];
  return Object.freeze({
    eventType,
    '~standard': Object.freeze({
      version: 1 as const,
      vendor: 'kompliant-webhooks',
      validate(value: unknown): StandardSchemaV1.Result<KnownEventDataByType[T]> {
        if (!isObject(value)) return { issues: [{ message: 'expected an object', path: [] }] };
        const issues: Issues = [];
        checkCommon(value, issues);
        extra?.(value, issues);
        // The value itself, unchanged: extra fields and unknown enum values pass through.
        return issues.length === 0 ? { value: value as KnownEventDataByType[T] } : { issues };
      },
    }),
  });
}

/**
 * A Standard Schema (v1) per documented event type, with no dependency: give it as the
 * `schemas` option (`schemas: kompliantSchemas`) to have each payload checked before your
 * handler runs (a failure is `400 INVALID_PAYLOAD` naming the paths), or call one on its own
 * (`kompliantSchemas.MBTRUST_FAILURE['~standard'].validate(data)`). It checks that the published
 * required fields are present with the published type, and nothing more: `version` may be any
 * `1.x`, enumerations (statuses, `user_type`, `workflow_type`) accept values not seen yet, and
 * fields it does not know pass through untouched. Event types it does not name are not checked.
 *
 * @example
 * ```ts
 * import { kompliantWebhook, memoryKeyStore } from 'kompliant-webhooks';
 * import { kompliantSchemas } from 'kompliant-webhooks/schemas';
 *
 * const keyStore = memoryKeyStore({});
 * kompliantWebhook({ keyStore, schemas: kompliantSchemas, onEvent: (event) => console.log(event.event_type) });
 * ```
 */
export const kompliantSchemas: KompliantSchemas = Object.freeze({
  WORKFLOW_CREATED: createSchema('WORKFLOW_CREATED'),
  WORKFLOW_STARTED: createSchema('WORKFLOW_STARTED'),
  WORKFLOW_COMPLETED: createSchema('WORKFLOW_COMPLETED'),
  SUBJECT_RECORD_DATA_UPDATED: createSchema('SUBJECT_RECORD_DATA_UPDATED'),
  SUBJECT_RECORD_UNDERWRITING_STATUS_UPDATED: createSchema('SUBJECT_RECORD_UNDERWRITING_STATUS_UPDATED'),
  DECISION_DOCUMENT_GENERATED: createSchema('DECISION_DOCUMENT_GENERATED'),
  MBTRUST_SUCCESS: createSchema('MBTRUST_SUCCESS'),
  MBTRUST_FAILURE: createSchema('MBTRUST_FAILURE'),
  PROPAY_SUCCESS: createSchema('PROPAY_SUCCESS'),
  PROPAY_FAILURE: createSchema('PROPAY_FAILURE'),
});
