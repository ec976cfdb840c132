import type { Clock } from "../../src/shared/clock.ts";

/** A clock that follows real time plus an offset the test moves: expiry and skew without sleeping. */
export interface MutableClock extends Clock {
  /** Milliseconds added to real time. */
  offsetMs: number;
  advance(ms: number): void;
  reset(): void;
}

export function mutableClock(): MutableClock {
  const clock: MutableClock = {
    offsetMs: 0,
    now: () => new Date(Date.now() + clock.offsetMs),
    advance: (ms) => {
      clock.offsetMs += ms;
    },
    reset: () => {
      clock.offsetMs = 0;
    },
  };
  return clock;
}
