// Observers (logger, stats, onError) made harmless: whatever one throws or rejects with is caught, counted and reported once.
import type { WebhookLogFields, WebhookLogger } from './logger.js';
import type { WebhookStatsSink } from './stats.js';

/** The user-supplied observers of a delivery, as named in the one line reporting a failure. */
export type ObserverKind = 'logger' | 'stats' | 'onError';

/** Called with every failure of an observer. */
export type ObserverFailed = (kind: ObserverKind, error: unknown) => void;

/** A short, single-line description of what an observer threw: its name and message, never its stack. */
export function describeThrown(error: unknown): string {
  let text: string;
  try {
    text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  } catch {
    text = 'a value that cannot be printed';
  }
  text = text.replace(/\s+/g, ' ');
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

/** Writes to stderr, ignoring a console that throws. */
export function printToStderr(line: string): void {
  try {
    console.error(line);
  } catch {
    // Nowhere left to report to.
  }
}

/** Sends a rejection of what an observer returned (an async logger, say) to `failed` rather than to `unhandledRejection`. */
function settle(result: unknown, kind: ObserverKind, failed: ObserverFailed): void {
  if (typeof result === 'object' && result !== null && typeof (result as PromiseLike<unknown>).then === 'function') {
    Promise.resolve(result).catch((error: unknown) => failed(kind, error));
  }
}

/**
 * The failure report of one receiver: each failure is counted as `observer_error` on `stats`
 * (unless `stats` is what failed), and the first failure of each kind is written once, through
 * `logger` (unless the logger is what failed: then on stderr). Nothing here throws.
 */
export function createObserverReport(stats: WebhookStatsSink | undefined, logger: () => WebhookLogger | undefined): ObserverFailed {
  const reported = new Set<ObserverKind>();
  const failed: ObserverFailed = (kind, error) => {
    if (kind !== 'stats' && stats !== undefined) {
      try {
        settle(stats.increment('observer_error'), 'stats', () => {});
      } catch {
        // The sink is failing too; its own failure is reported when it happens on its own call.
      }
    }
    if (reported.has(kind)) return;
    reported.add(kind);
    const message =
      `kompliant-webhooks: the ${kind} threw (${describeThrown(error)}); ignored, the answer is unchanged. ` +
      `Later failures of the ${kind} are counted (observer_error), not logged.`;
    const target = kind === 'logger' ? undefined : logger();
    if (target === undefined) {
      if (kind === 'logger') printToStderr(message);
      return;
    }
    try {
      settle(target.error({}, message), kind, () => {});
    } catch {
      printToStderr(message);
    }
  };
  return failed;
}

/** The logger with every call guarded: it never throws and never leaves a rejected promise behind. */
export function safeLogger(logger: WebhookLogger | undefined, failed: ObserverFailed): WebhookLogger | undefined {
  if (logger === undefined) return undefined;
  const call = (level: 'debug' | 'info' | 'warn' | 'error', fields: WebhookLogFields, message: string): void => {
    try {
      settle(logger[level](fields, message), 'logger', failed);
    } catch (error) {
      failed('logger', error);
    }
  };
  return {
    debug: (fields, message) => call('debug', fields, message),
    info: (fields, message) => call('info', fields, message),
    warn: (fields, message) => call('warn', fields, message),
    error: (fields, message) => call('error', fields, message),
  };
}

/** The stats sink with every call guarded (its arguments passed on as given). */
export function safeStats(stats: WebhookStatsSink | undefined, failed: ObserverFailed): WebhookStatsSink | undefined {
  if (stats === undefined) return undefined;
  return {
    increment(...args: Parameters<WebhookStatsSink['increment']>) {
      try {
        settle(stats.increment(...args), 'stats', failed);
      } catch (error) {
        failed('stats', error);
      }
    },
  };
}

/** A hook (`onError`) with every call guarded. */
export function safeHook<A extends unknown[]>(hook: ((...args: A) => unknown) | undefined, failed: ObserverFailed): ((...args: A) => void) | undefined {
  if (hook === undefined) return undefined;
  return (...args: A) => {
    try {
      settle(hook(...args), 'onError', failed);
    } catch (error) {
      failed('onError', error);
    }
  };
}
