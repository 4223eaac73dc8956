// The sign-in flow: find the account, check the password (unknown accounts cost the same),
// then the account state, then the second factor. Deactivation is only revealed to
// someone who knows the password (the original told anyone).
import { loginKey, type Account, type AccountStore } from "../accounts/account.js";
import { fail, ok, type Result } from "../failure.js";
import type { Logger } from "../logger.js";
import { normalizePassword, type PasswordHasher } from "../password/hasher.js";
import type { TotpVerifier } from "../otp/totp.js";

export interface SignInRequest {
  /** Username or email as typed. */
  login: string;
  password: string;
  secondFactor?: { type: string; token: string };
}

export const SECOND_FACTOR_TYPES = ["TOTP"] as const;

export class SignIn {
  constructor(
    private readonly accounts: AccountStore,
    private readonly hasher: PasswordHasher,
    private readonly totp: TotpVerifier,
    private readonly log: Logger,
  ) {}

  async signIn(req: SignInRequest): Promise<Result<Account>> {
    const password = normalizePassword(req.password);
    const account = await this.accounts.findByLogin(loginKey(req.login));
    if (!account) {
      await this.hasher.verifyDummy(password);
      return fail("INVALID_CREDENTIALS");
    }
    const { ok: matches, needsRehash } = await this.hasher.verify(account.passwordHash, password);
    if (!matches) return fail("INVALID_CREDENTIALS");
    if (account.deactivated) return fail("ACCOUNT_DEACTIVATED");

    if (account.totpSecret) {
      if (!req.secondFactor) {
        return fail("SECOND_FACTOR_REQUIRED", {
          message: `User "${req.login}" has enabled MFA; please specify secondary authentication factor`,
          applicableAuthFactorTypes: [...SECOND_FACTOR_TYPES],
        });
      }
      const { type, token } = req.secondFactor;
      const valid = type === "TOTP" && (await this.totp.verifyOnce(account.id, account.totpSecret, token));
      if (!valid) return fail("INVALID_SECOND_FACTOR");
    }

    if (needsRehash) await this.upgradeHash(account, password);
    return ok(account);
  }

  private async upgradeHash(account: Account, password: string): Promise<void> {
    try {
      await this.accounts.setPasswordHash(account.id, await this.hasher.hash(password));
    } catch (err) {
      // The sign-in itself succeeded; the upgrade is retried at the next one.
      this.log.warn({ err, accountId: account.id }, "password hash upgrade failed");
    }
  }
}
