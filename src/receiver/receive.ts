// The one receive path every entry point awaits: body, envelope, key, decryption, payload schema, delivery or claim, report.
import { WebhookError, isWebhookError } from '../wire/errors.js';
import type { ValidatedEnvelope } from '../wire/envelope.js';
import type { KompliantEvent } from '../wire/event.js';
import { checkOptionNames } from '../options/checks.js';
import { countingKeyStore } from '../delivery/counting-key-store.js';
import { finishDeliveryTrace, traceEvent, type DeliveryChannelMessage } from '../delivery/channel.js';
import { forDelivery, resolveDeliveryOptions, timeLeft, type ResolvedDeliveryOptions } from '../delivery/options.js';
import { reportDelivered, reportRejected } from '../delivery/report.js';
import { claimDelivery, type HeldClaim } from '../delivery/claim.js';
import { deliver } from '../delivery/sequence.js';
import { countStat } from '../delivery/stats.js';
import { resolveEnvelopeOptions, type ResolvedEnvelopeOptions } from './options.js';
import { validatePayload } from './payload-schemas.js';
import { decryptValidated, readEnvelope } from './pipeline.js';
import { enqueueVerified, type Inbox } from '../inbox/inbox.js';
import type { SharedSecret } from '../wire/secret.js';
import { createWireFormatDiagnosis, type WireFormatDiagnosis } from './wire-format-diagnosis.js';

/** The options of one entry point, checked once: how to open a body, and how to deliver it. */
export interface ReceiverCore {
  readonly config: ResolvedEnvelopeOptions;
  readonly plan: ResolvedDeliveryOptions;
  /** Runs after a DECRYPTION_FAILED with a held key, unless `diagnoseWireFormat: false`. */
  readonly diagnosis: WireFormatDiagnosis | undefined;
}

/**
 * Checks the options every entry point shares (a bad or unknown one throws a `TypeError` naming
 * it; `where` names the entry point, `acceptedNames` every option it takes).
 */
export function resolveReceiverCore(options: unknown, acceptedNames: readonly string[], where: string): ReceiverCore {
  const plan = resolveDeliveryOptions(options as object);
  const config = resolveEnvelopeOptions(options, (store) => countingKeyStore(store, plan.stats));
  checkOptionNames(options as object, acceptedNames, where);
  const diagnosis = config.diagnoseWireFormat ? createWireFormatDiagnosis(plan.logger, plan.stats) : undefined;
  return { config, plan, diagnosis };
}

/** What {@link receiveWebhook} does with the event once it is open. */
export type Disposal =
  /** Nothing more: the event is the result (`receive()`), without deduplication. */
  | { readonly mode: 'return' }
  /** Runs `handler` once per event id under the handler timeout; `deadlineMs` (the caller's own) caps the whole delivery. */
  | { readonly mode: 'deliver'; readonly handler: (event: KompliantEvent<unknown>) => unknown; readonly deadlineMs?: number | undefined }
  /** Claims the id and hands the event on (pass-through); the result's `settle` ends the claim. */
  | { readonly mode: 'pass' }
  /** Hands the envelope, still encrypted, to a durable queue (no claim: the inbox keeps one job per id). */
  | { readonly mode: 'enqueue'; readonly inbox: Inbox; readonly deadlineMs?: number | undefined };

/** How one delivery ended. */
export type Received =
  | { readonly outcome: 'returned' | 'handled' | 'duplicate'; readonly event: KompliantEvent<unknown> }
  | {
      readonly outcome: 'passed';
      readonly event: KompliantEvent<unknown>;
      /**
       * Call once with the application's final HTTP status: a 2xx marks the id done, anything
       * else frees it. An adapter that settles a failure itself gives the `reason` (default
       * `Application answered <status>`), the logged and reported HANDLER_FAILED message.
       */
      settle(status: number, reason?: string): void;
    }
  | { readonly outcome: 'rejected'; readonly error: WebhookError };

/**
 * Receives one webhook: awaits `readBody` (the body, or a promise of it; the HTTP adapters check
 * the request head there too), reads and checks the envelope, resolves the key, decrypts, checks
 * the payload schema, then does what `disposal` says, and reports the outcome (counter, log line,
 * delivery channel). A `WebhookError` at any step is reported, passed to `notify` (the entry
 * point's `onError`) and returned as `rejected`. Any other error (a bug, a throwing callback)
 * ends the trace as a failure and rejects. `trace` is the delivery's channel message, when
 * anybody listens (see `traceDelivery`). Every step runs within what is left of the delivery's
 * deadline (`deliveryTimeoutMs` from now, capped by the disposal's `deadlineMs`).
 */
export async function receiveWebhook(
  core: ReceiverCore,
  readBody: () => unknown,
  disposal: Disposal,
  notify: (error: WebhookError) => void,
  trace: DeliveryChannelMessage | undefined,
): Promise<Received> {
  const { config } = core;
  const plan = forDelivery(core.plan, disposal.mode === 'deliver' || disposal.mode === 'enqueue' ? disposal.deadlineMs : undefined);
  const started = performance.now();
  countStat(plan.stats, 'received');
  let envelope: ValidatedEnvelope | undefined;
  let event: KompliantEvent<unknown> | undefined;
  let body: unknown;
  let unopened: SharedSecret | undefined;
  try {
    body = await readBody();
    envelope = readEnvelope(config, body);
    event = await decryptValidated(config, envelope, timeLeft(plan, config.keyStoreTimeoutMs), core.diagnosis && ((secret) => (unopened = secret)));
    traceEvent(trace, event);
    event = await validatePayload(config.schemas, event, timeLeft(plan, plan.handlerTimeoutMs));
    if (disposal.mode === 'return') {
      reportDelivered(plan, started, 'passed', event, trace);
      return { outcome: 'returned', event };
    }
    if (disposal.mode === 'enqueue') {
      await enqueueVerified(disposal.inbox, envelope, event, timeLeft(plan, plan.handlerTimeoutMs), trace?.traceContext);
      reportDelivered(plan, started, 'handled', event, trace);
      return { outcome: 'handled', event };
    }
    if (disposal.mode === 'deliver') {
      const outcome = await deliver(plan, event, disposal.handler);
      reportDelivered(plan, started, outcome, event, trace);
      return { outcome, event };
    }
    const claim = await claimDelivery(plan, event);
    if (claim === 'duplicate') {
      reportDelivered(plan, started, 'duplicate', event, trace);
      return { outcome: 'duplicate', event };
    }
    claim.hold();
    return { outcome: 'passed', event, settle: settler(plan, started, event, claim, notify, trace) };
  } catch (error) {
    if (!isWebhookError(error)) {
      finishDeliveryTrace(trace, 'failed', event, new WebhookError('HANDLER_FAILED', { message: 'Internal error', cause: error }));
      throw error;
    }
    reportRejected(plan, started, error, event, trace, envelope?.metadata);
    notify(error);
    // After the rejection is reported; the diagnosis itself runs after the answer is written.
    if (unopened !== undefined && envelope !== undefined) core.diagnosis?.(body, envelope.metadata, unopened);
    return { outcome: 'rejected', error };
  }
}

/** The `settle` of a passed event: the application's status settles the claim and is reported, once. */
function settler(
  plan: ResolvedDeliveryOptions,
  started: number,
  event: KompliantEvent<unknown>,
  claim: HeldClaim,
  notify: (error: WebhookError) => void,
  trace: DeliveryChannelMessage | undefined,
): (status: number, reason?: string) => void {
  let settled = false;
  return (status, reason) => {
    if (settled) return;
    settled = true;
    const success = status >= 200 && status < 300;
    void claim.settle(success);
    if (success) {
      reportDelivered(plan, started, 'passed', event, trace);
      return;
    }
    const failure = new WebhookError('HANDLER_FAILED', { message: reason ?? `Application answered ${status}` });
    reportRejected(plan, started, failure, event, trace);
    notify(failure);
  };
}
