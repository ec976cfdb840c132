/** The parts of a request that a redirect may change. */
export interface HopRequest<Body> {
  readonly url: URL;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Body | undefined;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
// Credentials belong to the origin they were given for; never forward them elsewhere.
const ORIGIN_BOUND_HEADERS = new Set(["authorization", "cookie", "proxy-authorization"]);
const BODY_HEADERS = new Set(["content-type", "content-length", "content-encoding", "content-language", "content-md5"]);

/**
 * The request to send after a redirect response, or undefined when the response is not
 * a followable redirect (no Location). Follows the Fetch standard: 303 (and 301/302 after
 * a POST) turn into a body-less GET; 307/308 repeat the method and body. The returned URL
 * is only resolved, not vetted: the caller re-checks it against the destination policy.
 */
export function nextHop<Body>(
  current: HopRequest<Body>,
  status: number,
  location: string | undefined,
): HopRequest<Body> | undefined {
  if (!REDIRECT_STATUSES.has(status) || location === undefined || location === "") return undefined;
  const url = new URL(location, current.url); // may throw: caller reports URL_INVALID
  url.hash = "";
  const toGet =
    (status === 303 && current.method !== "GET" && current.method !== "HEAD") ||
    ((status === 301 || status === 302) && current.method === "POST");
  const sameOrigin = url.origin === current.url.origin;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(current.headers)) {
    const lower = name.toLowerCase();
    if (toGet && BODY_HEADERS.has(lower)) continue;
    if (!sameOrigin && ORIGIN_BOUND_HEADERS.has(lower)) continue;
    headers[name] = value;
  }
  if (!sameOrigin) {
    // Userinfo credentials are origin-bound too.
    url.username = "";
    url.password = "";
  }
  return { url, method: toGet ? "GET" : current.method, headers, body: toGet ? undefined : current.body };
}
