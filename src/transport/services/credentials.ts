// Where a caller presents its session: the session cookie, `Authorization: Cookie <token>`
// (as the Yeep document shows) or `Authorization: Bearer <token>`; and the cookies a sign-in sets:
// the session's and the device credential's (`device`, kept across sign-outs).
import { DEVICE_CREDENTIAL_TTL_MS } from "../../core/devices/device-credential.js";

export function presentedToken(headers: Headers, cookieName: string): string | null {
  const authorization = headers.get("authorization");
  if (authorization) {
    const m = /^(Bearer|Cookie)\s+(\S+)$/i.exec(authorization.trim());
    return m ? m[2]! : null; // a malformed header is not silently replaced by the cookie
  }
  return cookieValue(headers.get("cookie"), cookieName);
}

export function cookieValue(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

export interface CookiePolicy {
  name: string;
  /** The device credential's cookie. */
  deviceName: string;
  secure: boolean;
}

export function cookiePolicy(secure: boolean): CookiePolicy {
  // __Host-: only over HTTPS, no Domain, Path=/ (browsers enforce all three).
  return secure ? { name: "__Host-session", deviceName: "__Host-device", secure } : { name: "session", deviceName: "device", secure };
}

/** The device credential for the browser to present at its next sign-ins: a year, HttpOnly, never read by scripts. */
export function deviceCookie(policy: CookiePolicy, token: string): string {
  return `${policy.deviceName}=${token}; Path=/; Max-Age=${Math.floor(DEVICE_CREDENTIAL_TTL_MS / 1000)}; HttpOnly; SameSite=Lax${policy.secure ? "; Secure" : ""}`;
}

export function sessionCookie(policy: CookiePolicy, token: string, endsAt: Date, nowMs: number): string {
  const maxAge = Math.max(0, Math.floor((endsAt.getTime() - nowMs) / 1000));
  return `${policy.name}=${token}; Path=/; Max-Age=${maxAge}; Expires=${endsAt.toUTCString()}; HttpOnly; SameSite=Lax${policy.secure ? "; Secure" : ""}`;
}

export function clearedCookie(policy: CookiePolicy): string {
  return `${policy.name}=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax${policy.secure ? "; Secure" : ""}`;
}
