/** The median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values);
  sorted.sort(); // typed arrays sort numerically, in place on the copy
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Relative growth between the first and the last tenth of a series of samples taken in order:
 * `median(last tenth) / median(first tenth) - 1`. Needs at least 10 samples.
 */
export function firstToLastTenthGrowth(samples: readonly number[]): number {
  if (samples.length < 10) return Number.NaN;
  const tenth = Math.floor(samples.length / 10);
  return median(samples.slice(-tenth)) / median(samples.slice(0, tenth)) - 1;
}
