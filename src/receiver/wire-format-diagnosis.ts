// After a DECRYPTION_FAILED with a key the store holds: tries `detect`'s layouts and AADs on the envelope after the answer, and logs which options open it.
import { AAD_CANDIDATES, detectEnvelopeFormat, type DetectedFormat } from '../wire/detect.js';
import type { EnvelopeMetadata } from '../wire/event.js';
import { toEnvelopeObject } from '../wire/open-envelope.js';
import type { SharedSecret } from '../wire/secret.js';
import { envelopeLogFields, writeLog, type WebhookLogger } from '../delivery/logger.js';
import { countStat, type WebhookStatsSink } from '../delivery/stats.js';

/** Shortest time between two diagnoses of the same key (account id, key id): 10 minutes. */
export const WIRE_FORMAT_DIAGNOSIS_INTERVAL_MS = 10 * 60 * 1000;

/**
 * Called once an envelope failed to open with `secret`, a secret the key store holds (after the
 * store's `refetchSecret`, when it has one), with the request's body. Never throws, never waits:
 * the candidates run later, on their own turn of the event loop.
 */
export type WireFormatDiagnosis = (body: unknown, metadata: EnvelopeMetadata, secret: SharedSecret) => void;

/**
 * Creates one entry point's diagnosis. At most once per key per 10 minutes (counted from the
 * failure that ran it) it runs {@link detectEnvelopeFormat} on the envelope, in a timer callback
 * so the answer is written first; when a candidate opens it, one line at error level on
 * `logger` names the `layout` / `aad` options (never the plaintext, never the key) and
 * `wire_format_detected` is counted. Nothing is adopted: the receiver's options stay as they are.
 */
export function createWireFormatDiagnosis(logger: WebhookLogger | undefined, stats: WebhookStatsSink | undefined): WireFormatDiagnosis {
  // One entry per key the store holds that failed: bounded by the store's own keys.
  const lastRun = new Map<string, number>();
  return (body, metadata, secret) => {
    const key = `${metadata.account_id}\n${metadata.key_id}`;
    const at = Date.now();
    const last = lastRun.get(key);
    if (last !== undefined && at - last < WIRE_FORMAT_DIAGNOSIS_INTERVAL_MS) return;
    lastRun.set(key, at);
    // A timer (every runtime has one): the answer, written in this turn's microtasks, goes first.
    setTimeout(() => {
      let match: DetectedFormat | undefined;
      try {
        [match] = detectEnvelopeFormat(toEnvelopeObject(body), secret);
      } catch {
        return; // A diagnosis never fails a process: the envelope was already answered.
      }
      if (match === undefined) return; // Wrong secret or altered envelope: the rejection line said it all.
      countStat(stats, 'wire_format_detected', undefined, metadata.account_id);
      const advice = adviceFor(match);
      writeLog(logger, 'error', { ...envelopeLogFields(metadata), wire_format: advice.fields }, advice.message);
    }, 0);
  };
}

/** The line's message and its `wire_format` field for a match. */
function adviceFor(match: DetectedFormat): { message: string; fields: { layout: string; aad: string; configure: string } } {
  const layout = `layout: '${match.layout}'`;
  const head = `kompliant webhook wire format detected: envelopes of this key fail to open with the configured layout and aad, but open with layout '${match.layout}' and AAD ${match.aad}`;
  const fields = (configure: string) => ({ layout: match.layout, aad: match.aad, configure });
  if (!match.option.startsWith('aad:')) {
    return {
      message: `${head}, which no option can configure (${match.option.replace(/^not configurable: /, '')}): report it to Kompliant`,
      fields: fields(`${layout}; the AAD is ${match.option}`),
    };
  }
  const configure = `${layout}, ${match.option}`;
  const weaker = AAD_CANDIDATES.find((candidate) => candidate.name === match.aad)?.coversMetadata === false;
  return {
    message:
      `${head}: configure ${configure} (the receiver never switches by itself)` +
      (weaker ? '; this AAD leaves part of the metadata unauthenticated: accept that knowingly, or ask Kompliant' : ''),
    fields: fields(configure),
  };
}
