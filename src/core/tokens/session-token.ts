// The session token: a JWT (EdDSA, algorithm pinned at verification) whose `jti` names a
// server-side session, so that a token can be revoked before it expires, and whose `sid` names
// its rotation chain (stable across refreshes), so that a whole chain can be ended at once.
import { createHash } from "node:crypto";
import { decodeJwt, jwtVerify, type JWTPayload } from "jose";
import { signJwt } from "./jws.js";
import type { Clock } from "../clock.js";
import type { KeyRing } from "./key-ring.js";
import { SESSION_TOKEN } from "./token-types.js";

/** What the token says about the user, per the sign-in's projection. */
export interface UserClaims {
  id: string;
  username?: string;
  fullName?: string;
  primaryEmail?: string;
  permissions?: string[];
}

export interface SessionClaims {
  user: UserClaims;
  jti: string;
  /** The rotation chain: the first session id of the sign-in. */
  sid: string;
  iat: number;
  exp: number;
}

/** Tokens whose signature was checked, kept at most (a bounded memory cost: ~0.5 KiB each). */
const VERIFIED_MAX = 10_000;

export class SessionTokens {
  private readonly audience: string;
  /**
   * Genuine tokens seen recently, by the SHA-256 of the token (never the token itself): a client
   * presents the same token on every call for its 15 minutes, and an EdDSA verification costs more
   * than the rest of a user.info. Expiry is checked on each use, and an entry counts only while the
   * key that signed it is still in the ring; revocation is the session's (checked in the store).
   */
  private readonly verified = new Map<string, { claims: SessionClaims; kid: string }>();

  constructor(
    private readonly keys: KeyRing,
    private readonly issuer: string,
    private readonly clock: Clock,
    readonly ttlMs: number,
  ) {
    this.audience = SESSION_TOKEN.audience(issuer);
  }

  async sign(user: UserClaims, sessionId: string, chain: string): Promise<{ token: string; expiresAt: Date }> {
    const iat = Math.floor(this.clock.now() / 1000);
    const exp = iat + Math.floor(this.ttlMs / 1000);
    const { kid, key } = (await this.keys.fresh()).signing();
    const claims = { user, sid: chain, iss: this.issuer, aud: this.audience, jti: sessionId, iat, exp };
    const token = await signJwt({ alg: this.keys.alg, kid, typ: SESSION_TOKEN.typ }, claims, key);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /**
   * The claims of a genuine token, or null. With `allowExpired`, an expired token
   * still counts (refresh and sign-out work after the 15 minutes, while the session lives).
   */
  async verify(token: string, opts: { allowExpired?: boolean } = {}): Promise<SessionClaims | null> {
    if (opts.allowExpired) return (await this.check(token, opts))?.claims ?? null;
    const digest = createHash("sha256").update(token).digest("base64url");
    const seen = this.verified.get(digest);
    if (seen && this.keys.verification(seen.kid)) return seen.claims.exp > Math.floor(this.clock.now() / 1000) ? seen.claims : null;
    const checked = await this.check(token, opts);
    if (!checked) return null;
    if (this.verified.size >= VERIFIED_MAX) this.verified.delete(this.verified.keys().next().value!); // the oldest
    this.verified.set(digest, checked);
    return checked.claims;
  }

  /** The claims of a genuine token and the id of the key that signed it, or null. */
  private async check(token: string, opts: { allowExpired?: boolean }): Promise<{ claims: SessionClaims; kid: string } | null> {
    try {
      let now = new Date(this.clock.now());
      if (opts.allowExpired) {
        // Checked as of the token's own issue time; the signature still covers `iat`.
        const iat = decodeJwt(token).iat;
        if (typeof iat !== "number") return null;
        now = new Date(Math.min(now.getTime(), iat * 1000));
      }
      const { payload, protectedHeader } = await jwtVerify(token, (header) => this.keyFor(header.kid), {
        algorithms: [this.keys.alg],
        issuer: this.issuer,
        audience: this.audience,
        typ: SESSION_TOKEN.typ,
        currentDate: now,
        requiredClaims: ["jti", "sid", "iat", "exp"],
      });
      const claims = asSessionClaims(payload);
      return claims && { claims, kid: protectedHeader.kid! }; // keyFor found a key by this kid
    } catch {
      return null;
    }
  }

  private async keyFor(kid: string | undefined) {
    const key = await this.keys.verificationKey(kid);
    if (!key) throw new Error("unknown kid");
    return key;
  }
}

function asSessionClaims(p: JWTPayload): SessionClaims | null {
  const user = p.user as UserClaims | undefined;
  if (!user || typeof user.id !== "string" || typeof p.jti !== "string" || typeof p.sid !== "string") return null;
  return { user, jti: p.jti, sid: p.sid, iat: p.iat!, exp: p.exp! };
}
