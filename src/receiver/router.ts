// Routes verified events to a handler per event type, with each type's `data` typed.
import { EVENT_TYPE_PATTERN } from '../wire/envelope.js';
import type { EventType, KompliantEvent, PayloadV1 } from '../wire/event.js';
import { checkOptionNames } from '../options/checks.js';
import { resolvePayloadSchemas, type PayloadSchemas, type SchemaEvent, type SchemaOutput } from './payload-schemas.js';

/**
 * The decrypted `data` type of each event type, empty until you describe your own payloads by
 * declaration merging; an event type not listed here (the documented ones included) has
 * `PayloadV1` data. Any name may be added, the documented ones too:
 *
 * @example
 * ```ts
 * import type { PayloadV1 } from 'kompliant-webhooks';
 *
 * declare module 'kompliant-webhooks' {
 *   interface KompliantEventDataMap {
 *     DOCUMENT_UPLOADED: PayloadV1 & { document_id: string };
 *   }
 * }
 * ```
 */
// Empty on purpose: a property declared here could only be merged again with the very same
// type (TS2717), which would stop users from typing the documented event names.
export interface KompliantEventDataMap {}

/**
 * The event a handler registered with `on(eventType, ...)` receives: narrowed by its type, with
 * `data` typed by the router's schema for that type, else by {@link KompliantEventDataMap}.
 */
export type RoutedEvent<T extends string, TSchemas = {}> = KompliantEvent<
  T extends keyof TSchemas ? SchemaOutput<TSchemas[T]> : T extends keyof KompliantEventDataMap ? KompliantEventDataMap[T] : PayloadV1
> & {
  event_type: T;
};

/** A handler for routed events; `context` is what the adapter passes (the Express request, ...). */
export type RouteHandler<TEvent, TContext> = (event: TEvent, context: TContext) => unknown;

/**
 * Routes verified events to handlers by `event_type`. Use its `handle` as the `onEvent` option.
 * For one event, in registration order: every `onAny` handler, then the `on` handlers of its
 * type, or, when its type has none, the `onUnknown` handlers. They run one after the other;
 * the first throw or rejection fails the whole delivery (500 HANDLER_FAILED, so Kompliant
 * retries and every handler runs again: keep them idempotent or split work into a queue).
 */
export interface EventRouter<TContext = unknown, TSchemas extends PayloadSchemas = {}> {
  /** Adds a handler for one event type (or several); `event` is narrowed to that type. */
  on<T extends EventType>(eventType: T | readonly T[], handler: RouteHandler<RoutedEvent<T, TSchemas>, TContext>): this;
  /** Adds a handler for every event. */
  onAny(handler: RouteHandler<SchemaEvent<TSchemas>, TContext>): this;
  /** Adds a fallback for event types no `on` handler names (new types Kompliant adds later). */
  onUnknown(handler: RouteHandler<SchemaEvent<TSchemas>, TContext>): this;
  /** Runs the handlers for one event; bound, so `onEvent: router.handle` works. */
  readonly handle: (event: SchemaEvent<TSchemas>, context: TContext) => Promise<void>;
  /**
   * The `schemas` the router was created with, to give the entry point too (`schemas:
   * router.schemas`): the entry point validates, the router only types its handlers by them.
   */
  readonly schemas: TSchemas | undefined;
}

/** Options of {@link createEventRouter}. */
export interface EventRouterOptions<TSchemas extends PayloadSchemas = {}> {
  /** Standard Schemas by event type that type each `on` handler's `data` (pass the same to the entry point). */
  schemas?: TSchemas;
}

function checkHandler(handler: unknown, method: string): void {
  if (typeof handler !== 'function') throw new TypeError(`${method}: handler must be a function`);
}

/**
 * Creates an {@link EventRouter}. Handlers live in a `Map` keyed by event type, so an
 * `event_type` such as `__proto__` or `constructor` only ever finds handlers registered under
 * exactly that name.
 *
 * @example
 * ```ts
 * const router = createEventRouter<express.Request>()
 *   .on('WORKFLOW_COMPLETED', async (event) => { await approve(event.data.subject_record_id); })
 *   .on('DOCUMENT_UPLOADED', (event) => scanQueue.push(event.data))
 *   .onUnknown((event) => log.info({ type: event.event_type }, 'unhandled kompliant event'));
 * app.post('/webhooks/kompliant', kompliantWebhook({ keyStore, onEvent: router.handle }));
 *
 * // Typed by Standard Schemas (zod, valibot, arktype): validated by the entry point.
 * const typed = createEventRouter({ schemas: { WORKFLOW_COMPLETED: workflowSchema } })
 *   .on('WORKFLOW_COMPLETED', (event) => approve(event.data.subject_record_id));
 * app.post('/webhooks/kompliant', kompliantWebhook({ keyStore, schemas: typed.schemas, onEvent: typed.handle }));
 * ```
 */
export function createEventRouter<TContext = unknown, TSchemas extends PayloadSchemas = {}>(
  options: EventRouterOptions<TSchemas> = {},
): EventRouter<TContext, TSchemas> {
  if (typeof options !== 'object' || options === null) throw new TypeError('createEventRouter: options must be an object');
  checkOptionNames(options, ['schemas'], 'createEventRouter');
  resolvePayloadSchemas(options.schemas);
  type AnyHandler = RouteHandler<KompliantEvent, TContext>;
  const byType = new Map<string, AnyHandler[]>();
  const anyHandlers: AnyHandler[] = [];
  const unknownHandlers: AnyHandler[] = [];

  const router: EventRouter<TContext, TSchemas> = {
    schemas: options.schemas,
    on(eventType, handler) {
      checkHandler(handler, 'on');
      const types: readonly unknown[] = Array.isArray(eventType) ? eventType : [eventType];
      if (types.length === 0) throw new TypeError('on: at least one event type is required');
      for (const type of types) {
        if (typeof type !== 'string' || !EVENT_TYPE_PATTERN.test(type)) {
          throw new TypeError(`on: ${JSON.stringify(String(type).slice(0, 64))} is not a valid event type`);
        }
        const list = byType.get(type) ?? [];
        list.push(handler as AnyHandler);
        byType.set(type, list);
      }
      return router;
    },
    onAny(handler) {
      checkHandler(handler, 'onAny');
      anyHandlers.push(handler);
      return router;
    },
    onUnknown(handler) {
      checkHandler(handler, 'onUnknown');
      unknownHandlers.push(handler);
      return router;
    },
    handle: async (event, context) => {
      const typed = byType.get(event.event_type);
      // Each handler was typed for this event's type when it was registered.
      for (const handler of [...anyHandlers, ...(typed ?? unknownHandlers)]) await handler(event as KompliantEvent, context);
    },
  };
  return router;
}
