// Public surface of outbound HTTP to user-supplied URLs.
export { classifyAddress, describeAddressClass, type AddressClass, type AddressKind } from "./address-class.ts";
export { describeUrl } from "./describe-url.ts";
export { DestinationPolicy, effectivePort, type DestinationPolicyOptions } from "./destination-policy.ts";
export { systemResolver, type HostResolver, type ResolvedAddress } from "./guarded-lookup.ts";
export type { RequestBody, StreamBodySource } from "./http-exchange.ts";
export { formatIp, parseCidr, parseIp, type IpAddress, type IpCidr } from "./ip-address.ts";
export { NetError, isNetError, type NetErrorCode } from "./net-errors.ts";
export { presignedUrlExpiry } from "./presigned-url-expiry.ts";
export { SafeHttpClient, safeFetch, type SafeFetchInit, type SafeFetchPolicy, type SafeResponse } from "./safe-fetch.ts";
