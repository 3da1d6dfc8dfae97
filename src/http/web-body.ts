// Reads a Web ReadableStream request body with a byte cap and a read deadline.
import { WebhookError } from '../wire/errors.js';
import type { BodyLimits } from './request.js';
import { readDeadlines, type PendingRead } from './read-deadlines.js';

/**
 * Reads a Web `ReadableStream` body (a Fetch `Request`'s `body`) with a byte cap and a
 * deadline, holding at most `maxBodyBytes`. A declared Content-Length over the cap is refused
 * before reading. On any failure the stream is cancelled, so the runtime can drop the rest.
 * Rejects with PAYLOAD_TOO_LARGE or REQUEST_TIMEOUT; `null` (no body) resolves to `undefined`.
 */
export async function readWebBody(
  body: ReadableStream<Uint8Array> | null,
  declaredLength: string | null | undefined,
  limits: BodyLimits,
): Promise<Uint8Array | undefined> {
  if (body === null) return undefined;
  if (declaredLength !== null && declaredLength !== undefined && Number(declaredLength) > limits.maxBodyBytes) {
    await body.cancel().catch(() => {});
    throw new WebhookError('PAYLOAD_TOO_LARGE');
  }
  const reader = body.getReader();
  // The shared coarse deadline timer cancels the reader, which ends a pending read() as done.
  const read: PendingRead & { timedOut: boolean } = {
    deadline: 0,
    earlier: undefined,
    later: undefined,
    timedOut: false,
    expire() {
      read.timedOut = true;
      reader.cancel().catch(() => {});
    },
  };
  const deadlines = readDeadlines(limits.readTimeoutMs);
  deadlines.watch(read);
  const chunks: Uint8Array[] = [];
  let received = 0;
  try {
    for (;;) {
      let step: Awaited<ReturnType<typeof reader.read>>;
      try {
        step = await reader.read();
      } catch {
        throw new WebhookError('REQUEST_TIMEOUT', { message: 'Request body was aborted' });
      }
      if (read.timedOut) throw new WebhookError('REQUEST_TIMEOUT');
      if (step.done) break;
      received += step.value.byteLength;
      if (received > limits.maxBodyBytes) throw new WebhookError('PAYLOAD_TOO_LARGE');
      chunks.push(step.value);
    }
  } catch (error) {
    chunks.length = 0;
    reader.cancel().catch(() => {});
    throw error;
  } finally {
    deadlines.forget(read);
  }
  // The reader keeps its lock, as a body read by `request.text()` stays locked: the stream is
  // closed and read to the end, and releaseLock() would build a rejected promise for the
  // reader's closed state on every request for nobody to read.
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const whole = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) {
    whole.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return whole;
}
