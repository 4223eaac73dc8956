// SessionTokens keeps the tokens whose signature it checked (by digest), so a token presented again
// skips the EdDSA verification: a kept token still expires on time, stops counting once its key
// leaves the ring, and a token differing in one character is checked (and refused) on its own.
import { beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../src/core/clock.js";
import { KeyRing, type KeyStore, type StoredKey } from "../src/core/tokens/key-ring.js";
import { SessionTokens } from "../src/core/tokens/session-token.js";

describe("verified session tokens", () => {
  let clock: ManualClock;
  let keys: StoredKey[];
  let ring: KeyRing;
  let tokens: SessionTokens;
  beforeEach(async () => {
    clock = new ManualClock();
    keys = [];
    const store: KeyStore = {
      loadOrCreate: async (_purpose, generate) => (keys.length ? keys : (keys = [await generate()])),
      rotate: async (_purpose, key) => void (keys = [key, ...keys]),
    };
    ring = await KeyRing.load(store, "session", "EdDSA");
    tokens = new SessionTokens(ring, "signin", clock, 900_000);
  });

  const issue = async () => (await tokens.sign({ id: "a1" }, "j1", "s1")).token;

  it("a token presented again is still refused once it expires", async () => {
    const token = await issue();
    expect((await tokens.verify(token))?.jti).toBe("j1");
    clock.advance(899_000);
    expect((await tokens.verify(token))?.jti).toBe("j1");
    clock.advance(1_000);
    expect(await tokens.verify(token)).toBeNull();
    expect((await tokens.verify(token, { allowExpired: true }))?.jti).toBe("j1"); // refresh and sign-out still take it
  });

  it("a token kept as verified is refused once its signing key has left the ring", async () => {
    const token = await issue();
    expect(await tokens.verify(token)).not.toBeNull();
    await ring.rotate(0);
    expect(await tokens.verify(token)).not.toBeNull(); // the old key still verifies during the grace
    keys = keys.slice(0, 1); // the old key retired
    await ring.reload();
    expect(await tokens.verify(token)).toBeNull();
  });

  it("a token one character away from a verified one is checked, and refused", async () => {
    const token = await issue();
    expect(await tokens.verify(token)).not.toBeNull();
    const last = token.at(-2) === "A" ? "B" : "A";
    expect(await tokens.verify(`${token.slice(0, -2)}${last}${token.at(-1)}`)).toBeNull();
    expect(await tokens.verify(token)).not.toBeNull();
  });
});
