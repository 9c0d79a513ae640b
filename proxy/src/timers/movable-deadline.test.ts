import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MovableDeadline } from './movable-deadline.ts';

describe('MovableDeadline', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires once, when the time set has passed', () => {
    const expired = vi.fn();
    const deadline = new MovableDeadline(expired);
    deadline.set(100);
    vi.advanceTimersByTime(99);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(expired).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1_000);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('moved later on every chunk, it expires only after the last one has gone quiet for the whole time', () => {
    const expired = vi.fn();
    const deadline = new MovableDeadline(expired);
    deadline.set(100);
    for (let chunk = 0; chunk < 50; chunk++) {
      vi.advanceTimersByTime(60);
      deadline.set(100);
    }
    expect(expired).not.toHaveBeenCalled();
    // One timer however often it moved: moving is not a timer operation.
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(99);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('set again and again to the same end (a request deadline re-read per chunk), it keeps its one timer', () => {
    const deadline = new MovableDeadline(() => {});
    const end = performance.now() + 5_000;
    deadline.set(end - performance.now());
    const timer = vi.getTimerCount();
    const scheduled = vi.spyOn(globalThis, 'setTimeout');
    for (let chunk = 0; chunk < 100; chunk++) {
      vi.advanceTimersByTime(0.3);
      deadline.set(end - performance.now() - 0.001);
    }
    expect(scheduled).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(timer);
  });

  it('moved earlier, it expires at the earlier time', () => {
    const expired = vi.fn();
    const deadline = new MovableDeadline(expired);
    deadline.set(10_000);
    deadline.set(20);
    vi.advanceTimersByTime(20);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('cleared, it never expires and holds no timer; set again, it counts from then', () => {
    const expired = vi.fn();
    const deadline = new MovableDeadline(expired);
    deadline.set(50);
    deadline.clear();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(expired).not.toHaveBeenCalled();
    deadline.set(50);
    vi.advanceTimersByTime(50);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('set beyond what one Node timer can wait (a request timeout of 1000h), it waits the whole time', () => {
    const expired = vi.fn();
    const deadline = new MovableDeadline(expired);
    const thousandHours = 1000 * 3600 * 1000;
    const start = performance.now();
    deadline.set(thousandHours);
    // Node fires a timer longer than 2^31-1 ms after 1 ms: each wake-up must still be weeks apart.
    const wakeUps: number[] = [];
    while (!expired.mock.calls.length && wakeUps.length < 10) {
      vi.advanceTimersToNextTimer();
      wakeUps.push(performance.now() - start);
    }
    expect(wakeUps.length).toBeLessThanOrEqual(2);
    expect(wakeUps[0]).toBeGreaterThan(20 * 24 * 3600 * 1000);
    expect(wakeUps.at(-1)).toBe(thousandHours);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('set to no limit (Infinity), it holds no timer', () => {
    const expired = vi.fn();
    const deadline = new MovableDeadline(expired);
    deadline.set(Number.POSITIVE_INFINITY);
    expect(vi.getTimerCount()).toBe(0);
    deadline.set(0);
    vi.advanceTimersByTime(0);
    expect(expired).toHaveBeenCalledTimes(1);
  });
});
