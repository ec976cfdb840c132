import type { Clock } from "../../shared/clock.ts";

/** A clock that moves only when told to: retries fall due without sleeping. */
export class ManualClock implements Clock {
  private at: number;

  constructor(start: string | Date) {
    this.at = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.at);
  }

  advance(ms: number): void {
    this.at += ms;
  }

  set(to: string | Date): void {
    this.at = new Date(to).getTime();
  }
}
