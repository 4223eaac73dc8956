// The server secret SMS codes are HMAC'd with in the short-lived store: derived from
// SIGNIN_MASTER_KEY when set, else a random secret kept (once per deployment) in the database.
import { hkdfSync, randomBytes, randomUUID } from "node:crypto";
import type { KeyStore } from "../tokens/key-ring.js";

const PURPOSE = "sms-code-hmac";

/**
 * Not in Redis next to the codes it protects: someone who reads a Redis dump cannot try the
 * million codes offline. Every instance of a deployment gets the same secret (the master key, or
 * the database row the first instance stored; the key store serialises first starts).
 */
export async function codeSecret(masterKey: string | null, keys: KeyStore): Promise<Buffer> {
  if (masterKey) return Buffer.from(hkdfSync("sha256", masterKey, "signin", PURPOSE, 32));
  const [stored] = await keys.loadOrCreate(PURPOSE, async () => ({
    kid: randomUUID(),
    alg: "HS256",
    publicJwk: { kty: "oct" }, // nothing public: the row only keeps the secret
    privateJwk: { kty: "oct", k: randomBytes(32).toString("base64url") },
    createdAt: new Date(),
  }));
  if (!stored?.privateJwk.k) throw new Error("SMS code secret missing from the key store");
  return Buffer.from(stored.privateJwk.k, "base64url");
}
