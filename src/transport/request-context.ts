// Who is asking, for limits and audit: the client IP (the socket's peer, or the right-most
// untrusted X-Forwarded-For hop when TRUSTED_PROXIES says the peer is a proxy; IPv6 grouped by
// /64, as one host holds a whole /64), the user agent and a request id.
import { createContextKey } from "@connectrpc/connect";
import { randomUUID } from "node:crypto";
import ipaddr from "ipaddr.js";
import proxyaddr from "proxy-addr";
import { UNKNOWN_CONTEXT, type RequestContext } from "../core/request-context.js";
import type { Req } from "./legacy/http.js";

export const requestContextKey = createContextKey<RequestContext>(UNKNOWN_CONTEXT, { description: "request context" });

export type TrustFn = (addr: string, i: number) => boolean;

/** TRUSTED_PROXIES as a trust function (throws on a malformed list). */
export function trustProxies(cidrs: string[]): TrustFn {
  return proxyaddr.compile(cidrs);
}

export function requestContext(req: Req, trust: TrustFn, surface: RequestContext["surface"]): RequestContext {
  // Without X-Forwarded-For the peer is the client whatever the trust list says: skip proxy-addr's parsing.
  const peer = req.headers["x-forwarded-for"] === undefined ? req.socket?.remoteAddress : undefined;
  return {
    surface,
    ip: clientKey(peer ?? proxyaddr(req as never, trust)),
    userAgent: (headerValue(req, "user-agent") ?? "").slice(0, 256),
    requestId: headerValue(req, "x-request-id") ?? randomUUID(), // set by the handler for every request
  };
}

// Parsing an address costs more than the rest of a refused request (ipaddr.js tries IPv6, then
// IPv4, by regular expressions): a flood of requests from few peers is answered from this memo.
const MEMO_MAX = 10_000;
const memo = new Map<string, string>();

/** IPv4 as is; IPv4-mapped IPv6 as IPv4; other IPv6 as its /64. */
export function clientKey(address: string): string {
  let key = memo.get(address);
  if (key === undefined) {
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(address, (key = parseClientKey(address)));
  }
  return key;
}

function parseClientKey(address: string): string {
  if (!ipaddr.isValid(address)) return address || "unknown";
  let addr = ipaddr.parse(address);
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  if (addr.kind() === "ipv4") return addr.toString();
  const parts = (addr as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
  return `${parts.join(":")}::/64`;
}

function headerValue(req: Req, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
