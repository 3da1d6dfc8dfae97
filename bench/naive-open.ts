import { createDecipheriv } from 'node:crypto';

/**
 * The naive decrypt a hand-written receiver does: AAD as the spec builds it, AES-256-GCM with a
 * full tag, JSON.parse of the plaintext. No validation of any field. Throws on a bad envelope.
 * Returns the envelope's id and event type with the plaintext (the naive SQL routes key on the id).
 */
export function naiveOpen(key: Buffer, text: string): { id: string; eventType: string; data: unknown } {
  const e = JSON.parse(text) as Record<string, string>;
  const aad = JSON.stringify({ id: e.id, event_type: e.event_type, timestamp: e.timestamp, account_id: e.account_id, schema_version: e.schema_version, key_id: e.key_id });
  const data = Buffer.from(e.data as string, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12), { authTagLength: 16 });
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(data.subarray(data.length - 16));
  const plain = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
  return { id: e.id as string, eventType: e.event_type as string, data: JSON.parse(plain.toString('utf8')) };
}
