// Option-name lists checked against their option type: a list that misses or invents a name does not compile.

/**
 * The names of every option of `T`, given as an object with one `true` per option: the compiler
 * rejects a missing name and an unknown one, so the list an entry point checks against can never
 * drift from the option type it documents.
 */
export function optionNames<T extends object>(names: { readonly [K in keyof Required<T>]: true }): readonly string[] {
  return Object.freeze(Object.keys(names));
}

/** `names` less the ones an entry point does not accept. */
export function withoutNames(names: readonly string[], ...left: readonly string[]): readonly string[] {
  return Object.freeze(names.filter((name) => !left.includes(name)));
}
