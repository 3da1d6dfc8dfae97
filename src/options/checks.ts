// Generic option checkers: each throws a TypeError naming the option; they know nothing of the receiver.

/** Throws a TypeError naming any option not in `known`: a typo must not silently fall back. */
export function checkOptionNames(options: object, known: readonly string[], where: string): void {
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) throw new TypeError(`${where}: unknown option ${JSON.stringify(name)}`);
  }
}

/** Checks a positive integer option; returns the default when undefined. */
export function checkPositiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive integer`);
  }
  return value;
}

/** Checks a non-negative integer option; returns the default when undefined. */
export function checkNonNegativeInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative integer`);
  }
  return value;
}

/** Checks a boolean option; returns the default when undefined. */
export function checkBooleanOption(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be true or false`);
  return value;
}

/** Checks an optional function option. */
export function checkFunction<T>(value: unknown, name: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new TypeError(`${name} must be a function`);
  return value as T;
}
