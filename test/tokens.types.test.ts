// Each token type the service signs names its own audience and JOSE `typ`, and each verifier
// requires both: a session token is not an access token, nor the reverse, for our verifiers and for
// another service verifying with the JWKS. The Cosync `jwt` keeps its Realm audience and claims.
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/core/clock.js";
import { AppKeys, AppTokens } from "../src/core/tokens/app-tokens.js";
import { KeyRing, type KeyStore } from "../src/core/tokens/key-ring.js";
import { SessionTokens } from "../src/core/tokens/session-token.js";
import { APP_TOKENS, COSYNC_APPS, COSYNC_USERS, cosync, md5, WILE } from "./support/cosync.js";
import { post, startTestService, type TestService } from "./support/service.js";

const SESSION = { typ: "session+jwt", audience: "signin/session" };
const ACCESS = { typ: "at+jwt", audience: "signin/access" };

describe("token types on the wire (one account on both surfaces)", () => {
  let svc: TestService;
  let tokens: { session: string; access: string; jwt: string };
  beforeAll(async () => {
    // DEFAULT_APP=acme: the Yeep-style API signs in the Cosync app's accounts too.
    svc = await startTestService({ DEFAULT_APP: "acme" }, COSYNC_USERS, COSYNC_APPS);
    const session = (await post(`${svc.url}/api/session.issueToken`, { user: WILE.handle, password: WILE.password })).json.token as string;
    const login = (await cosync(svc.url, "login", { handle: WILE.handle, password: md5(WILE.password) }, { "app-token": APP_TOKENS.acme })).json;
    tokens = { session, access: login["access-token"], jwt: login.jwt };
  });
  afterAll(() => svc?.close());

  const asSession = async (token: string) => (await post(`${svc.url}/api/user.info`, {}, { authorization: `Bearer ${token}` })).json;
  const asRefresh = async (token: string) => (await post(`${svc.url}/api/session.refreshToken`, { token })).json;
  const asAccess = async (token: string) => (await cosync(svc.url, "getUser", null, { "access-token": token })).json;

  it("session token: typ session+jwt, aud <issuer>/session, sid; access token: typ at+jwt, aud <issuer>/access, sub, client_id, the original's claims kept", () => {
    expect(decodeProtectedHeader(tokens.session).typ).toBe(SESSION.typ);
    expect(decodeJwt(tokens.session)).toMatchObject({ aud: SESSION.audience, iss: "signin", sid: expect.any(String) });
    expect(decodeProtectedHeader(tokens.access).typ).toBe(ACCESS.typ);
    const access = decodeJwt(tokens.access);
    expect(access).toMatchObject({ aud: ACCESS.audience, iss: "signin", handle: WILE.handle, appId: "acme", scope: "user", client_id: "acme" });
    expect(access.sub).toBe(access.uid);
    // The Cosync jwt is unchanged: RS256, typ JWT, aud = the Realm app id, sub = the handle.
    expect(decodeProtectedHeader(tokens.jwt)).toMatchObject({ alg: "RS256", typ: "JWT" });
    expect(decodeJwt(tokens.jwt)).toMatchObject({ aud: "acme-realm", sub: WILE.handle, email: WILE.handle, user_data: { role: "admin" } });
  });

  it("each token is accepted only where it belongs", async () => {
    expect((await asSession(tokens.session)).ok).toBe(true);
    expect((await asAccess(tokens.access)).handle).toBe(WILE.handle);
    for (const token of [tokens.access, tokens.jwt]) {
      expect((await asSession(token)).error.code).toBe(10000);
      expect((await asRefresh(token)).error.code).toBe(10029);
    }
    for (const token of [tokens.session, tokens.jwt]) expect((await asAccess(token)).code).toBe(405);
  });

  it("a verifier using the JWKS tells them apart by audience and typ", async () => {
    const jwks = createRemoteJWKSet(new URL(`${svc.url}/.well-known/jwks.json`));
    const currentDate = new Date(svc.clock.now());
    const as = (type: { typ: string; audience: string }) => ({ algorithms: ["EdDSA"], issuer: "signin", audience: type.audience, typ: type.typ, currentDate });
    expect((await jwtVerify(tokens.session, jwks, as(SESSION))).payload.sid).toBeTruthy();
    expect((await jwtVerify(tokens.access, jwks, as(ACCESS))).payload.scope).toBe("user");
    // Only the audience asked (a verifier that does not look at typ) already refuses the other type.
    await expect(jwtVerify(tokens.session, jwks, { ...as(ACCESS), typ: undefined })).rejects.toThrow(/aud/);
    await expect(jwtVerify(tokens.access, jwks, { ...as(SESSION), typ: undefined })).rejects.toThrow(/aud/);
    await expect(jwtVerify(tokens.jwt, jwks, { algorithms: ["RS256"], audience: SESSION.audience })).rejects.toThrow(/aud/);
    await expect(jwtVerify(tokens.jwt, jwks, { algorithms: ["RS256"], audience: ACCESS.audience })).rejects.toThrow(/aud/);
  });
});

describe("token verifiers (core): both audience and typ are required", () => {
  const clock = new ManualClock();
  let ring: KeyRing;
  let sessions: SessionTokens;
  let access: AppTokens;
  beforeAll(async () => {
    // One generated key, as the service's key ring holds it (the store's persistence is not under test).
    const store: KeyStore = { loadOrCreate: async (_purpose, generate) => [await generate()], rotate: async () => {} };
    ring = await KeyRing.load(store, "session", "EdDSA");
    sessions = new SessionTokens(ring, "signin", clock, 900_000);
    access = new AppTokens(new AppKeys(store), ring, "signin", clock, 3_600_000);
  });

  /** A token signed with the service's own key, with the claims and typ given. */
  const signed = async (claims: JWTPayload, typ: string, aud?: string) => {
    const { kid, key } = ring.signing();
    const iat = Math.floor(clock.now() / 1000);
    const jwt = new SignJWT({ ...claims }).setProtectedHeader({ alg: "EdDSA", kid, typ }).setIssuer("signin").setIssuedAt(iat).setExpirationTime(iat + 600).setJti("j1");
    return (aud ? jwt.setAudience(aud) : jwt).sign(key);
  };
  const sessionClaims = { user: { id: "507f191e810c19729de860ea" }, sid: "chain-1" };
  const accessClaims = { handle: "wile@acme.com", appId: "acme", scope: "user", uid: "u1", sub: "u1", client_id: "acme", amr: ["pwd"], auth_ms: clock.now() };

  it("accepts its own type only with its own typ and audience", async () => {
    expect(await sessions.verify(await signed(sessionClaims, SESSION.typ, SESSION.audience))).not.toBeNull();
    expect(await access.verifyAccess(await signed(accessClaims, ACCESS.typ, ACCESS.audience))).not.toBeNull();
  });

  it("the session verifier refuses its typ with another audience or none, and its audience with another typ", async () => {
    for (const token of [
      await signed(sessionClaims, SESSION.typ),
      await signed(sessionClaims, SESSION.typ, ACCESS.audience),
      await signed(sessionClaims, ACCESS.typ, SESSION.audience),
    ]) {
      expect(await sessions.verify(token)).toBeNull();
      expect(await sessions.verify(token, { allowExpired: true })).toBeNull();
    }
  });

  it("the access verifier refuses its typ with another audience or none, and its audience with another typ", async () => {
    for (const token of [
      await signed(accessClaims, ACCESS.typ),
      await signed(accessClaims, ACCESS.typ, SESSION.audience),
      await signed(accessClaims, SESSION.typ, ACCESS.audience),
      await signed(accessClaims, "access+jwt"),
    ]) {
      expect(await access.verifyAccess(token)).toBeNull();
    }
  });
});
