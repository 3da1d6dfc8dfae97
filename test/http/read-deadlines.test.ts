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

  it('forgetting reads anywhere in the list (first, middle, last, twice, after expiry) keeps the others watched in order', () => {
    vi.useFakeTimers();
    const deadlines = new ReadDeadlines(800);
    const expired: string[] = [];
    const read = (name: string) => ({ deadline: 0, expire: () => expired.push(name) });
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map(read) as [ReturnType<typeof read>, ReturnType<typeof read>, ReturnType<typeof read>, ReturnType<typeof read>, ReturnType<typeof read>];
    for (const r of [a, b, c, d]) deadlines.watch(r);
    deadlines.forget(b); // middle
    deadlines.forget(b); // twice: a no-op
    deadlines.forget(a); // first
    deadlines.forget(d); // last
    deadlines.forget(e); // never watched
    vi.advanceTimersByTime(400);
    deadlines.watch(e);
    vi.advanceTimersByTime(500);
    expect(expired).toEqual(['c']);
    deadlines.forget(c); // after it expired: a no-op, e stays watched
    vi.advanceTimersByTime(400);
    expect(expired).toEqual(['c', 'e']);
    expect(a).not.toHaveProperty('later', expect.anything());
    vi.advanceTimersByTime(200);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a read watched again after it was forgotten is watched once', () => {
    vi.useFakeTimers();
    const deadlines = new ReadDeadlines(800);
    const read = { deadline: 0, expire: vi.fn() };
    deadlines.watch(read);
    deadlines.forget(read);
    deadlines.watch(read);
    vi.advanceTimersByTime(1000);
    expect(read.expire).toHaveBeenCalledOnce();
  });

  it('works where setInterval returns a timer without unref (Workers, Deno, browsers)', () => {
    const interval = vi.spyOn(globalThis, 'setInterval').mockImplementation((() => 7) as never);
    vi.spyOn(globalThis, 'clearInterval').mockImplementation(() => undefined);
    const deadlines = new ReadDeadlines(800);
    expect(() => deadlines.watch({ deadline: 0, expire: () => {} })).not.toThrow();
    expect(interval).toHaveBeenCalledOnce();
  });
});
