// Random ids with Kompliant's prefixes (wh_, sr_, w_, whc_, ...), for the test helpers, samples and the emulator.
import { randomBytes } from 'node:crypto';

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random id with a prefix, like Kompliant's `wh_2K9mPxR7N4jL8hS6TdWfY3` (22 characters after it). */
export function randomId(prefix: string): string {
  const bytes = randomBytes(22);
  let id = prefix;
  for (const byte of bytes) id += ID_ALPHABET[byte % ID_ALPHABET.length];
  return id;
}
