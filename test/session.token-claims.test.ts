// The session token's content per projection, and verification that pins the algorithm,
// the issuer, the token type and the signing key.
import { decodeJwt, decodeProtectedHeader, SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

describe("session token claims", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(() => svc?.close());

  const issue = async (projection?: object) =>
    (await post(`${svc.url}/api/session.issueToken`, { user: "coyote", password: COYOTE.password, projection })).json.token as string;
  const info = (token: string) => post(`${svc.url}/api/user.info`, {}, { authorization: `Bearer ${token}` });

  it("without projection: user.id only, with iat, exp (15 min), iss and a jti", async () => {
    const token = await issue();
    const claims = decodeJwt(token);
    expect(claims.user).toStrictEqual({ id: COYOTE.id });
    expect(claims.iss).toBe("signin");
    expect(claims.exp! - claims.iat!).toBe(900);
    expect(claims.jti).toMatch(/^[\w-]{32}$/);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: "EdDSA", typ: "session+jwt" });
    expect(decodeProtectedHeader(token).kid).toBeTruthy();
  });

  it("projection.profile adds username, fullName and primaryEmail; projection.permissions adds permissions", async () => {
    expect(decodeJwt(await issue({ profile: true })).user).toStrictEqual({
      id: COYOTE.id,
      username: "coyote",
      fullName: "Wile E. Coyote",
      primaryEmail: "coyote@acme.com",
    });
    expect(decodeJwt(await issue({ permissions: true })).user).toStrictEqual({ id: COYOTE.id, permissions: ["user.read"] });
    expect(Object.keys(decodeJwt(await issue({ profile: true, permissions: true })).user as object).sort()).toStrictEqual(
      ["fullName", "id", "permissions", "primaryEmail", "username"],
    );
  });

  it("a refreshed token keeps the projection", async () => {
    const token = await issue({ permissions: true });
    const refreshed = (await post(`${svc.url}/api/session.refreshToken`, { token })).json.token;
    expect(decodeJwt(refreshed).user).toStrictEqual({ id: COYOTE.id, permissions: ["user.read"] });
  });

  it("refuses tokens with alg none, another algorithm, another key, or altered claims", async () => {
    const genuine = await issue();
    const claims = decodeJwt(genuine);
    const header = decodeProtectedHeader(genuine);
    const unsecured = new UnsecuredJWT({ ...claims }).encode();
    const hs256 = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: "HS256", kid: header.kid, typ: "session+jwt" })
      .sign(new TextEncoder().encode("a-guessable-secret-of-32-bytes!!"));
    const [h, , s] = genuine.split(".");
    const altered = `${h}.${Buffer.from(JSON.stringify({ ...claims, user: { id: "000000000000000000000000" } })).toString("base64url")}.${s}`;
    for (const token of [unsecured, hs256, altered]) expect((await info(token)).json.error.code).toBe(10000);
    expect((await info(genuine)).json.ok).toBe(true);
  });
});
