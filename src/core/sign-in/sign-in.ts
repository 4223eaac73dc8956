// The sign-in flow: app state, then the account (unknown accounts cost the same argon2
// work), the password, the account state, then which second factor applies. Deactivation is
// only revealed to someone who knows the password (the original told anyone).
import { createHash } from "node:crypto";
import { loginKey, type Account, type AccountStore } from "../accounts/account.js";
import type { App } from "../apps/app.js";
import { fail, ok, type Result } from "../failure.js";
import type { Logger } from "../logger.js";
import { normalizePassword, type PasswordHasher } from "../password/hasher.js";
import type { TotpVerifier } from "../otp/totp.js";

/** How the client sent the password: as typed, or as Cosync clients do, lowercase md5 hex. */
export type PasswordForm = "plain" | "md5hex";
export type SecondFactorType = "TOTP" | "SMS";

export interface Credentials {
  app: App;
  /** Username, email or handle as typed. */
  login: string;
  password: string;
  form: PasswordForm;
}

export interface SignInRequest extends Credentials {
  secondFactor?: { type: string; token: string };
}

export class SignIn {
  constructor(
    private readonly accounts: AccountStore,
    private readonly hasher: PasswordHasher,
    private readonly totp: TotpVerifier,
    private readonly log: Logger,
  ) {}

  /** The first factor: the active app's account behind login and password. */
  async checkPassword(c: Credentials): Promise<Result<Account>> {
    const appState = checkApp(c.app);
    if (!appState.ok) return appState;
    const secret = passwordSecret(c.app, c.password, c.form);
    const account = await this.accounts.findByLogin(c.app.id, loginKey(c.login));
    if (!account) {
      await this.hasher.verifyDummy(secret);
      return fail("INVALID_CREDENTIALS");
    }
    const { ok: matches, needsRehash } = await this.hasher.verify(account.passwordHash, secret);
    if (!matches) return fail("INVALID_CREDENTIALS");
    if (account.deactivated) return fail("ACCOUNT_DEACTIVATED");
    if (needsRehash) await this.upgradeHash(account, secret);
    return ok(account);
  }

  /** Yeep-style: the password and, when one applies, a TOTP code in the same request. */
  async signIn(req: SignInRequest): Promise<Result<Account>> {
    const first = await this.checkPassword(req);
    if (!first.ok) return first;
    const account = first.value;
    const factor = secondFactorFor(req.app, account);
    if (!factor) return first;
    if (!req.secondFactor) {
      return fail("SECOND_FACTOR_REQUIRED", {
        message: `User "${req.login}" has enabled MFA; please specify secondary authentication factor`,
        applicableAuthFactorTypes: [factor],
      });
    }
    const { type, token } = req.secondFactor;
    // SMS needs a sent code, which only the two-step (login token) flow has.
    const valid = type === "TOTP" && factor === "TOTP" && (await this.totp.verifyOnce(account.id, account.totpSecret!, token));
    return valid ? first : fail("INVALID_SECOND_FACTOR");
  }

  private async upgradeHash(account: Account, secret: string): Promise<void> {
    try {
      await this.accounts.setPasswordHash(account.id, await this.hasher.hash(secret));
    } catch (err) {
      // The sign-in itself succeeded; the upgrade is retried at the next one.
      this.log.warn({ err, accountId: account.id }, "password hash upgrade failed");
    }
  }
}

export function checkApp(app: App): Result<App> {
  if (app.status === "deleted") return fail("APP_DELETED");
  if (app.status === "suspended") return fail("APP_SUSPENDED");
  return ok(app);
}

/**
 * The second factor that applies: TOTP when the user has one (unless the app uses phone
 * two-factor), SMS when the app uses phone two-factor and the user turned it on for a verified phone.
 */
export function secondFactorFor(app: App, account: Account): SecondFactorType | null {
  if (app.twoFactor === "phone") return account.phoneTwoFactor && account.phoneVerified && account.phone ? "SMS" : null;
  return account.totpSecret ? "TOTP" : null;
}

/** What argon2 sees: md5 apps store argon2id(md5hex), so a typed password is md5'd here first. */
export function passwordSecret(app: App, password: string, form: PasswordForm): string {
  if (form === "md5hex") return password.toLowerCase();
  if (app.passwordPrehash === "md5") return createHash("md5").update(password, "utf8").digest("hex");
  return normalizePassword(password);
}
