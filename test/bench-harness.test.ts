import { describe, expect, it } from 'vitest';
import { parseBenchOptions } from './bench/options.js';
import { payloadOfSize, PAYLOAD_SIZES } from './bench/payloads.js';
import { firstToLastTenthGrowth, median } from './bench/summary-statistics.js';

// The bench harness itself (CI also runs `npm run bench -- --smoke` end to end).
describe('bench harness', () => {
  it('median: odd, even, unsorted input left untouched', () => {
    const values = [5, 1, 3];
    expect(median(values)).toBe(3);
    expect(values).toEqual([5, 1, 3]);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('growth compares the medians of the first and last tenth', () => {
    const flat = Array.from({ length: 100 }, () => 100);
    expect(firstToLastTenthGrowth(flat)).toBe(0);
    const rising = Array.from({ length: 100 }, (_, i) => (i < 10 ? 100 : i >= 90 ? 120 : 110));
    expect(firstToLastTenthGrowth(rising)).toBeCloseTo(0.2);
    expect(firstToLastTenthGrowth([1, 2, 3])).toBeNaN();
  });

  it.each(PAYLOAD_SIZES.map((n) => [n]))('payloadOfSize(%i) is JSON of exactly that many bytes', (bytes) => {
    expect(Buffer.byteLength(JSON.stringify(payloadOfSize(bytes)))).toBe(bytes);
  });

  it('options: defaults, --smoke, --json, --json=FILE, --only; unknown arguments throw', () => {
    expect(parseBenchOptions([])).toMatchObject({ smoke: false, json: false, jsonFile: undefined });
    expect([...parseBenchOptions([]).only]).toEqual(['cpu', 'http', 'keys', 'soak']);
    const o = parseBenchOptions(['--smoke', '--json=out.json', '--only=keys,cpu']);
    expect(o).toMatchObject({ smoke: true, json: false, jsonFile: 'out.json' });
    expect(o.only).toEqual(new Set(['cpu', 'keys']));
    expect(() => parseBenchOptions(['--only=gpu'])).toThrow(TypeError);
    expect(() => parseBenchOptions(['--fast'])).toThrow(/usage/);
  });
});
