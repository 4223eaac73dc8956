// Cosync-style tokens. The `jwt`: RS256 with the app's own key (aud = Realm app id, sub =
// handle, email, metadata claims). The `access-token`: {handle, appId, scope: "user"} signed
// with the service key as an RFC 9068 access token (typ at+jwt, its own aud, sub, client_id);
// ours expires (the original's never did), and says how the user signed in.
import { randomBytes } from "node:crypto";
import { jwtVerify } from "jose";
import { signJwt } from "./jws.js";
import type { Account } from "../accounts/account.js";
import type { App, MetadataField } from "../apps/app.js";
import type { Clock } from "../clock.js";
import { fail, ok, type Result } from "../failure.js";
import { metadataPathProblem, valueAtPath } from "../apps/metadata-path.js";
import type { KeyRing, KeyStore } from "./key-ring.js";
import { KeyRing as Ring } from "./key-ring.js";
import { ACCESS_TOKEN } from "./token-types.js";

export interface AppUserTokens {
  jwt: string;
  accessToken: string;
}

/** The tokens, with what the access-token's record (the session list) needs. */
export interface IssuedAppTokens {
  tokens: AppUserTokens;
  /** The access-token's `jti`. */
  tokenId: string;
  issuedAtMs: number;
  expiresAtMs: number;
}

export interface AccessClaims {
  accountId: string;
  appId: string;
  handle: string;
  /** The sign-in time (ms), which is the issue time: a revocation at the same second must not spare it. */
  issuedAtMs: number;
  /** `jti`: what a revocation that spares the caller's own token names. */
  tokenId: string;
  /** Whether the sign-in passed a second factor (`amr` has "otp" or "sms"). */
  secondFactor: boolean;
}

/** How the user signed in (RFC 8176 `amr` values): "otp" for TOTP, "sms" for an SMS code. */
export interface SignInProof {
  secondFactor: "otp" | "sms" | null;
}

/** Each app's RS256 key ring, loaded (or generated) on first use and kept. */
export class AppKeys {
  private readonly rings = new Map<string, Promise<KeyRing>>();

  constructor(private readonly store: KeyStore) {}

  ring(appId: string): Promise<KeyRing> {
    let ring = this.rings.get(appId);
    if (!ring) {
      ring = Ring.load(this.store, `app:${appId}`, "RS256");
      ring.catch(() => this.rings.delete(appId)); // a failed load is retried next time
      this.rings.set(appId, ring);
    }
    return ring;
  }
}

export class AppTokens {
  private readonly accessAudience: string;

  constructor(
    private readonly appKeys: AppKeys,
    private readonly serviceKeys: KeyRing,
    private readonly issuer: string,
    private readonly clock: Clock,
    private readonly accessTtlMs: number,
  ) {
    this.accessAudience = ACCESS_TOKEN.audience(issuer);
  }

  async issue(app: App, account: Account, proof: SignInProof = { secondFactor: null }): Promise<Result<IssuedAppTokens>> {
    const metadata = metadataClaims(app.metadataFields, account.metadata);
    if (!metadata.ok) return metadata;
    const handle = account.email ?? account.username;
    const nowMs = this.clock.now();
    const iat = Math.floor(nowMs / 1000);
    const appKey = (await (await this.appKeys.ring(app.id)).fresh()).signing();
    // The registered claims come last: metadata naming one of them does not replace it.
    const jwtClaims = { ...metadata.value, email: handle, aud: app.realmAppId, sub: handle, iat, exp: iat + app.jwtExpirationHours * 3600 };
    const jwt = await signJwt({ alg: "RS256", kid: appKey.kid, typ: "JWT" }, jwtClaims, appKey.key);
    const serviceKey = (await this.serviceKeys.fresh()).signing();
    const amr = proof.secondFactor ? ["pwd", proof.secondFactor, "mfa"] : ["pwd"];
    const tokenId = randomBytes(16).toString("base64url");
    const exp = iat + Math.floor(this.accessTtlMs / 1000);
    // The original's claims (handle, appId, scope) stay: SDKs may read them.
    const accessClaims = { handle, appId: app.id, scope: "user", uid: account.id, client_id: app.id, amr, auth_ms: nowMs, iss: this.issuer, aud: this.accessAudience, sub: account.id, jti: tokenId, iat, exp };
    const accessToken = await signJwt({ alg: this.serviceKeys.alg, kid: serviceKey.kid, typ: ACCESS_TOKEN.typ }, accessClaims, serviceKey.key);
    return ok({ tokens: { jwt, accessToken }, tokenId, issuedAtMs: nowMs, expiresAtMs: exp * 1000 });
  }

  /** The claims of a genuine, unexpired access token; null otherwise. */
  async verifyAccess(token: string): Promise<AccessClaims | null> {
    try {
      const { payload } = await jwtVerify(
        token,
        async (header) => {
          const key = await this.serviceKeys.verificationKey(header.kid);
          if (!key) throw new Error("unknown kid");
          return key;
        },
        {
          algorithms: [this.serviceKeys.alg],
          issuer: this.issuer,
          audience: this.accessAudience,
          typ: ACCESS_TOKEN.typ,
          currentDate: new Date(this.clock.now()),
          requiredClaims: ["exp", "iat", "jti", "sub"],
        },
      );
      const { uid, appId, handle, scope, amr, auth_ms: authMs, jti, sub } = payload as Record<string, unknown>;
      if (typeof uid !== "string" || sub !== uid || typeof appId !== "string" || typeof handle !== "string" || scope !== "user") return null;
      if (typeof authMs !== "number" || typeof jti !== "string") return null;
      const secondFactor = Array.isArray(amr) && amr.includes("mfa");
      return { accountId: uid, appId, handle, issuedAtMs: authMs, tokenId: jti, secondFactor };
    } catch {
      return null;
    }
  }
}

/**
 * Claims from the user's metadata: each field's value at `path` is placed under the path's
 * root (e.g. user_data.role -> {user_data: {role}}). Undeclared metadata stays out of the token.
 */
export function metadataClaims(fields: MetadataField[], metadata: Record<string, unknown>): Result<Record<string, unknown>> {
  const claims: Record<string, unknown> = {};
  for (const field of fields) {
    if (metadataPathProblem(field.path)) continue; // stored before paths were checked: never walked
    const parts = field.path.split(".");
    const value = valueAtPath(metadata, field.path);
    if (value === undefined || value === null) {
      if (field.required) return fail("INVALID_METADATA", { message: `Required metadata "${field.path}" is missing` });
      continue;
    }
    let node = claims;
    for (const part of parts.slice(0, -1)) node = (Object.hasOwn(node, part) && isObject(node[part]) ? node[part] : (node[part] = {})) as Record<string, unknown>;
    node[parts[parts.length - 1]!] = value;
  }
  return ok(claims);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
