// Enrolling a TOTP factor: a pending secret (15 min) is shown once as text, URI and QR code;
// activation proves the authenticator holds it, and spends that code so it cannot sign in.
import { timingSafeEqual } from "node:crypto";
import QRCode from "qrcode";
import type { Account, AccountStore } from "../accounts/account.js";
import type { EphemeralStore } from "../ephemeral.js";
import { fail, ok, type Result } from "../failure.js";
import type { AppStore } from "../apps/app.js";
import type { PasswordHasher } from "../password/hasher.js";
import { passwordSecret } from "../password/secret.js";
import { newTotpSecret, totpUri, type TotpVerifier } from "./totp.js";

const PENDING_TTL_MS = 15 * 60 * 1000;

export interface PendingTotp {
  secret: string;
  uri: string;
  /** PNG data URL of the otpauth URI. */
  qrcode: string;
}

export class TotpEnrollment {
  constructor(
    private readonly accounts: AccountStore,
    private readonly apps: AppStore,
    private readonly store: EphemeralStore,
    private readonly totp: TotpVerifier,
    private readonly hasher: PasswordHasher,
    private readonly issuer: string,
  ) {}

  async enroll(account: Account): Promise<Result<PendingTotp>> {
    if (account.totpSecret) return fail("FACTOR_ALREADY_EXISTS");
    const secret = newTotpSecret();
    const uri = totpUri(this.issuer, account.email ?? account.username, secret);
    await this.store.set(pendingKey(account.id), secret, PENDING_TTL_MS);
    return ok({ secret, uri, qrcode: await QRCode.toDataURL(uri) });
  }

  async activate(account: Account, code: string, secret?: string): Promise<Result<void>> {
    if (account.totpSecret) return fail("FACTOR_ALREADY_EXISTS");
    const pending = await this.store.get(pendingKey(account.id));
    if (!pending) return fail("FACTOR_NOT_FOUND", { message: "No pending TOTP enrollment" });
    if (secret && !sameText(secret, pending)) return fail("INVALID_ENROLLMENT_CODE");
    if ((await this.totp.verifyOnce(account.id, pending, code)) !== "ok") return fail("INVALID_ENROLLMENT_CODE");
    await this.accounts.setTotpSecret(account.id, pending);
    await this.store.delete(pendingKey(account.id));
    return ok(undefined);
  }

  async eject(account: Account, password: string): Promise<Result<void>> {
    const app = await this.apps.findById(account.appId);
    const { ok: matches } = app
      ? await this.hasher.verify(account.passwordHash, passwordSecret(app, password, "plain"))
      : { ok: false };
    if (!matches) return fail("INVALID_CREDENTIALS", { message: "Invalid password" });
    if (!account.totpSecret) return fail("FACTOR_NOT_FOUND");
    await this.accounts.setTotpSecret(account.id, null);
    return ok(undefined);
  }
}

const pendingKey = (accountId: string) => `totp:pending:${accountId}`;

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
