import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReadDeadlines } from '../../src/http/read-deadlines.js';

describe('ReadDeadlines', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('expires a read once its deadline passed, within one tick, and stops its timer when idle', () => {
    vi.useFakeTimers();
    const deadlines = new ReadDeadlines(800);
    const expire = vi.fn();
    deadlines.watch({ deadline: 0, expire });
    vi.advanceTimersByTime(700);
    expect(expire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(200);
    expect(expire).toHaveBeenCalledOnce();
    vi.advanceTimersByTime(200);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a forgotten read never expires', () => {
    vi.useFakeTimers();
    const deadlines = new ReadDeadlines(800);
    const read = { deadline: 0, expire: vi.fn() };
    deadlines.watch(read);
    deadlines.forget(read);
    vi.advanceTimersByTime(2000);
    expect(read.expire).not.toHaveBeenCalled();
  });

  it('works where setInterval returns a timer without unref (Workers, Deno, browsers)', () => {
    const interval = vi.spyOn(globalThis, 'setInterval').mockImplementation((() => 7) as never);
    vi.spyOn(globalThis, 'clearInterval').mockImplementation(() => undefined);
    const deadlines = new ReadDeadlines(800);
    expect(() => deadlines.watch({ deadline: 0, expire: () => {} })).not.toThrow();
    expect(interval).toHaveBeenCalledOnce();
  });
});
