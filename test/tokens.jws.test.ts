// core/tokens/jws.ts signs what jose verifies, for both algorithms the service uses, with the
// header it was given and the claims as they were.
import { createPrivateKey } from "node:crypto";
import { decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { signJwt } from "../src/core/tokens/jws.js";

describe("signJwt", () => {
  for (const alg of ["EdDSA", "RS256"] as const) {
    it(`${alg}: jose verifies it with the algorithm pinned, and refuses it altered`, async () => {
      const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
      const key = createPrivateKey({ key: (await exportJWK(privateKey)) as never, format: "jwk" });
      const claims = { user: { id: "a1" }, iss: "https://signin.test", aud: "x", iat: 1_000, exp: 2_000 };
      const token = await signJwt({ alg, kid: "k1", typ: "session+jwt" }, claims, key);
      expect(decodeProtectedHeader(token)).toStrictEqual({ alg, kid: "k1", typ: "session+jwt" });
      const { payload } = await jwtVerify(token, publicKey, { algorithms: [alg], issuer: "https://signin.test", audience: "x", typ: "session+jwt", currentDate: new Date(1_500_000) });
      expect(payload).toStrictEqual(claims);
      const [h, , s] = token.split(".");
      const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, user: { id: "a2" } })).toString("base64url")}.${s}`;
      await expect(jwtVerify(forged, publicKey, { algorithms: [alg], currentDate: new Date(1_500_000) })).rejects.toThrow(/signature/);
    });
  }
});
