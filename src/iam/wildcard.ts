/**
 * IAM wildcard matching: `*` matches any run of characters (also none), `?` exactly one.
 * Iterative with a single backtrack point, so hostile patterns (`a*a*a*…b`) cost O(n·m) at
 * worst, never exponential time as a naive regex can.
 */
export function matchWildcard(pattern: string, value: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  let pi = 0;
  let vi = 0;
  let starAt = -1;
  let starMatch = 0;
  while (vi < v.length) {
    if (pi < p.length && (p[pi] === "?" || p[pi] === v[vi])) {
      pi++;
      vi++;
    } else if (pi < p.length && p[pi] === "*") {
      starAt = pi++;
      starMatch = vi;
    } else if (starAt >= 0) {
      pi = starAt + 1;
      vi = ++starMatch;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === "*") pi++;
  return pi === p.length;
}
