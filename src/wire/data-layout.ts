/** AES-GCM nonce length used by Kompliant (bytes). */
export const NONCE_BYTES = 12;
/** AES-GCM tag length used by Kompliant (bytes); shorter tags are never accepted. */
export const TAG_BYTES = 16;

/** One of the three parts of the decoded `data` field. */
export type DataPart = 'nonce' | 'ciphertext' | 'tag';

/**
 * The byte order of the decoded `data` field, named by its parts in order. Every order of the
 * three parts has a name; the nonce is always 12 bytes and the tag always 16, whatever the order.
 * - `'nonce-ciphertext-tag'`: the wire format (spec section 2), the default;
 * - `'nonce-tag-ciphertext'`, `'ciphertext-tag-nonce'`, `'ciphertext-nonce-tag'`,
 *   `'tag-nonce-ciphertext'`, `'tag-ciphertext-nonce'`: senders that arrange the parts otherwise.
 */
export type DataLayoutName =
  | 'nonce-ciphertext-tag'
  | 'nonce-tag-ciphertext'
  | 'ciphertext-tag-nonce'
  | 'ciphertext-nonce-tag'
  | 'tag-nonce-ciphertext'
  | 'tag-ciphertext-nonce';

/** The spec's layout, `nonce(12) || ciphertext || tag(16)` (section 2). */
export const DEFAULT_DATA_LAYOUT: DataLayoutName = 'nonce-ciphertext-tag';

/** The three parts of `data`, as views into the decoded bytes. */
export interface DataParts {
  nonce: Uint8Array;
  ciphertext: Uint8Array;
  tag: Uint8Array;
}

/** A byte layout of `data`: the order of nonce (12), ciphertext and tag (16). */
export interface DataLayout {
  /** The name, which is also the value of the `layout` option. */
  readonly name: DataLayoutName;
  /** The parts in the order they appear in `data`. */
  readonly order: readonly DataPart[];
  /**
   * Splits `data` (at least 28 bytes) into its parts, without copying. The nonce is always
   * exactly 12 bytes and the tag exactly 16.
   */
  split(data: Uint8Array): DataParts;
  /** Joins the parts in this layout's order into a new buffer. */
  join(parts: DataParts): Buffer;
}

function partLength(part: DataPart, dataLength: number): number {
  if (part === 'nonce') return NONCE_BYTES;
  if (part === 'tag') return TAG_BYTES;
  return dataLength - NONCE_BYTES - TAG_BYTES;
}

function defineLayout(order: readonly [DataPart, DataPart, DataPart]): DataLayout {
  return Object.freeze({
    name: order.join('-') as DataLayoutName,
    order: Object.freeze([...order]),
    split(data: Uint8Array): DataParts {
      const parts: DataParts = { nonce: data, ciphertext: data, tag: data };
      let at = 0;
      for (const part of order) {
        const end = at + partLength(part, data.length);
        parts[part] = data.subarray(at, end);
        at = end;
      }
      return parts;
    },
    join(parts: DataParts): Buffer {
      return Buffer.concat(order.map((part) => parts[part]));
    },
  });
}

/**
 * Every layout the library knows, the spec's first. The `detect` CLI command tries these same
 * layouts and reports a match by its name, which is the `layout` option value to configure.
 */
export const DATA_LAYOUTS: readonly DataLayout[] = Object.freeze([
  defineLayout(['nonce', 'ciphertext', 'tag']),
  defineLayout(['nonce', 'tag', 'ciphertext']),
  defineLayout(['ciphertext', 'tag', 'nonce']),
  defineLayout(['tag', 'nonce', 'ciphertext']),
  defineLayout(['ciphertext', 'nonce', 'tag']),
  defineLayout(['tag', 'ciphertext', 'nonce']),
]);

/** The names of {@link DATA_LAYOUTS}, the accepted values of the `layout` option. */
export const DATA_LAYOUT_NAMES: readonly DataLayoutName[] = Object.freeze(DATA_LAYOUTS.map((layout) => layout.name));

// A Map, not an object: a name like 'constructor' or '__proto__' must find nothing.
const LAYOUTS_BY_NAME: ReadonlyMap<string, DataLayout> = new Map(DATA_LAYOUTS.map((layout) => [layout.name, layout]));

/**
 * Checks a `layout` option value at construction and returns it; `undefined` gives the spec's
 * default. Anything but one of {@link DATA_LAYOUT_NAMES} throws a TypeError naming `optionName`.
 *
 * @example
 * ```ts
 * checkLayoutOption(undefined); // 'nonce-ciphertext-tag'
 * checkLayoutOption('nonce-tag-ciphertext'); // 'nonce-tag-ciphertext'
 * checkLayoutOption('nonce|tag|ciphertext'); // throws TypeError: layout must be one of ...
 * ```
 */
export function checkLayoutOption(value: unknown, optionName = 'layout'): DataLayoutName {
  if (value === undefined) return DEFAULT_DATA_LAYOUT;
  if (typeof value === 'string' && LAYOUTS_BY_NAME.has(value)) return value as DataLayoutName;
  throw new TypeError(`${optionName} must be one of ${DATA_LAYOUT_NAMES.map((name) => `'${name}'`).join(', ')}`);
}

/**
 * The {@link DataLayout} of a name; throws a TypeError naming `optionName` for an unknown one.
 *
 * @example
 * ```ts
 * const { nonce, ciphertext, tag } = dataLayout('nonce-tag-ciphertext').split(dataBytes);
 * ```
 */
export function dataLayout(name: DataLayoutName, optionName = 'layout'): DataLayout {
  return LAYOUTS_BY_NAME.get(checkLayoutOption(name, optionName)) as DataLayout;
}
