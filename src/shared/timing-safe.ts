import { timingSafeEqual } from "node:crypto";

/** Constant-time comparison of two strings (signatures, tokens); length leaks only. */
export function timingSafeEqualString(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  if (left.length !== right.length) {
    // Still spend the comparison so the early exit does not depend on content.
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}
