const BASE64_CHARS = /^[A-Za-z0-9+/]*$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Decodes standard base64 (RFC 4648 section 4 alphabet, `=` padding optional) strictly:
 * whitespace, url-safe characters, misplaced or wrong padding and non-zero trailing bits are
 * refused, where `Buffer.from(s, 'base64')` would silently skip or accept them.
 * Returns `undefined` for anything that is not canonical base64.
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
  const body = padding === 0 ? text : text.slice(0, end);
  if (!BASE64_CHARS.test(body)) return undefined;
  if (remainder !== 0) {
    // The last character carries unused low bits (4 for 2 chars, 2 for 3 chars): they must be 0.
    const last = ALPHABET.indexOf(body.charAt(end - 1));
    const unusedBits = remainder === 2 ? 0b1111 : 0b11;
    if ((last & unusedBits) !== 0) return undefined;
  }
  return Buffer.from(body, 'base64');
}
