// Private signing keys encrypted at rest with SIGNIN_MASTER_KEY (AES-256-GCM, key derived
// with HKDF). Without a master key they are stored as plain JWKs (development).
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import type { JWK } from "jose";

export interface SealedJwk {
  enc: "A256GCM";
  iv: string;
  tag: string;
  data: string;
}

export class KeyCipher {
  private readonly key: Buffer | null;

  constructor(masterKey: string | null) {
    this.key = masterKey ? Buffer.from(hkdfSync("sha256", masterKey, "signin", "signing-key-encryption", 32)) : null;
  }

  seal(jwk: JWK): JWK | SealedJwk {
    if (!this.key) return jwk;
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(jwk), "utf8"), cipher.final()]);
    return { enc: "A256GCM", iv: iv.toString("base64url"), tag: cipher.getAuthTag().toString("base64url"), data: data.toString("base64url") };
  }

  open(stored: JWK | SealedJwk): JWK {
    if (!("enc" in stored) || stored.enc !== "A256GCM") return stored as JWK;
    if (!this.key) throw new Error("signing keys are encrypted: SIGNIN_MASTER_KEY is required");
    const sealed = stored as SealedJwk;
    const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(sealed.iv, "base64url"));
    decipher.setAuthTag(Buffer.from(sealed.tag, "base64url"));
    try {
      return JSON.parse(Buffer.concat([decipher.update(Buffer.from(sealed.data, "base64url")), decipher.final()]).toString("utf8"));
    } catch {
      throw new Error("cannot decrypt signing keys: wrong SIGNIN_MASTER_KEY");
    }
  }
}
