/** Injected time source, so expiry and skew rules are testable without sleeping. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock fixed at (or offset from) a given instant; for tests and replay. */
export function fixedClock(at: Date | (() => Date)): Clock {
  return { now: () => (typeof at === "function" ? at() : new Date(at.getTime())) };
}
