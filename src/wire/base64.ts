// Strict base64 decoding: the RFC 4648 alphabet and padding, nothing else.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Decodes standard base64 (RFC 4648 section 4 alphabet, `=` padding optional) strictly:
 * whitespace, url-safe characters, non-ASCII characters, misplaced or wrong padding and non-zero
 * trailing bits are refused, where `Buffer.from(s, 'base64')` would silently skip or accept them.
 * Returns `undefined` for anything that is not canonical base64.
 *
 * @example
 * ```ts
 * decodeBase64Strict('QUJD'); // <Buffer 41 42 43>
 * decodeBase64Strict('QU JD'); // undefined
 * ```
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 61 /* = */) end--;
  const padding = text.length - end;
  const remainder = end % 4;
  if (remainder === 1 || padding > 2) return undefined;
  if (padding > 0 && (text.length % 4 !== 0 || padding !== (remainder === 2 ? 2 : remainder === 3 ? 1 : -1))) {
    return undefined;
  }
  // Node's decoder skips every character outside its alphabet, so any such character makes the
  // output shorter than 3/4 of the input. Its alphabet also takes the url-safe `-` and `_` and
  // stops at the first `=`: those are refused by search (the first `=` must be the padding's).
  // This replaces a regex over the whole string that cost far more than the decode itself on
  // large bodies (V8 runs it per character); the text is decoded whole, not sliced, to skip a copy.
  // Node reads only the low byte of each UTF-16 unit, so U+0141 would pass as `A`: a text with
  // any non-ASCII character (its UTF-8 length exceeds its length, a native count) is refused.
  const bytes = Buffer.from(text, 'base64');
  let canonical =
    bytes.length === (end * 3) >>> 2 &&
    Buffer.byteLength(text, 'utf8') === text.length &&
    text.indexOf('=') === (padding === 0 ? -1 : end) &&
    !text.includes('-') &&
    !text.includes('_');
  if (canonical && remainder !== 0) {
    // The last character carries unused low bits (4 for 2 chars, 2 for 3 chars): they must be 0.
    const last = ALPHABET.indexOf(text.charAt(end - 1));
    const unusedBits = remainder === 2 ? 0b1111 : 0b11;
    canonical = (last & unusedBits) === 0;
  }
  if (canonical) return bytes;
  bytes.fill(0); // the text may have been a mistyped secret
  return undefined;
}
