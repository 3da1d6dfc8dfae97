// A logger that keeps every line it is given, for tests that assert on log fields.
import type { WebhookLogFields, WebhookLogger } from '../../src/index.js';

/** One line a {@link collectingLogger} received. */
export interface LoggedLine {
  level: string;
  fields: WebhookLogFields;
  message: string;
}

/** A `WebhookLogger` that pushes each call onto `lines`. */
export function collectingLogger(lines: LoggedLine[]): WebhookLogger {
  const at = (level: string) => (fields: WebhookLogFields, message: string) => void lines.push({ level, fields, message });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
