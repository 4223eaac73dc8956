// Cross-site request forgery on the cookie: a page on another site can make the browser POST with
// the session cookie (a form, or fetch in no-cors mode with a "simple" body, no preflight). Such
// requests are refused by what the browser says about their origin, following Go 1.25's
// net/http.CrossOriginProtection: Sec-Fetch-Site when sent (every current browser), else Origin
// against the request's own host; requests with neither come from non-browser clients and pass.
// Only requests the cookie authenticates are checked: an Authorization header (bearer or
// `Cookie <token>`) cannot be added cross-site without a preflight, so those stay as they are.
import type { DescMethod } from "@bufbuild/protobuf";
import { SessionService } from "../../gen/signin/session/v1/session_pb.js";
import type { Req } from "./legacy/http.js";
import { presentedToken } from "./services/credentials.js";

/** The sign-in that sets the cookie: checked too, against login CSRF (signing a victim into the attacker's account). */
export const setsSessionCookie = (method: DescMethod) => method === SessionService.method.setCookie;

/** The host[:port] the client addressed: Host, or HTTP/2's :authority. */
export function requestHost(req: Req): string | undefined {
  const host = req.headers.host ?? req.headers[":authority"];
  return typeof host === "string" ? host : undefined;
}

/** The session cookie is what authenticates the request (no Authorization header wins over it). */
export function cookieAuthenticated(headers: Headers, cookieName: string): boolean {
  return !headers.get("authorization") && presentedToken(headers, cookieName) !== null;
}

/**
 * Why a state-changing request from a browser must be refused, or null when it may proceed.
 * `host` is the request's own host[:port] (Host, or HTTP/2 :authority); `trusted` the CORS_ORIGINS.
 */
export function crossOriginRefusal(headers: Headers, host: string | undefined, trusted: ReadonlySet<string>): string | null {
  const origin = headers.get("origin");
  if (origin !== null && trusted.has(origin)) return null;
  const site = headers.get("sec-fetch-site");
  if (site !== null) {
    // "none": typed by the user; "same-origin": this service's own page (whatever a proxy did to Host).
    if (site === "same-origin" || site === "none") return null;
    return `cross-origin request refused (Sec-Fetch-Site: ${site.slice(0, 32)}; allowed origins are listed in CORS_ORIGINS)`;
  }
  if (origin === null) return null; // not a browser (or one too old to send either): no ambient cookie abuse
  if (host !== undefined && hostOf(origin) === host.toLowerCase()) return null;
  return `cross-origin request refused (Origin: ${origin.slice(0, 128)}; allowed origins are listed in CORS_ORIGINS)`;
}

function hostOf(origin: string): string | null {
  try {
    const url = new URL(origin);
    return url.protocol === "http:" || url.protocol === "https:" ? url.host : null;
  } catch {
    return null; // "null" (sandboxed frames, file:) or garbage: never this service's own origin
  }
}
