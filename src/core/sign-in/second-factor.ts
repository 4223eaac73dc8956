// Second factors: which one applies to an account in its app, and the check of a code under
// the per-account second-factor limit. It reports; the sign-in flow decides and audits.
import type { Account } from "../accounts/account.js";
import type { App } from "../apps/app.js";
import { failureOf } from "../failure.js";
import { tooMany, type SignInLimits } from "../limits/sign-in-limits.js";
import { passed, refused, type Checked } from "./refusal.js";
import type { Spans } from "../spans.js";

export type SecondFactorType = "TOTP" | "SMS" | "WEBAUTHN";
/** What a sign-in passed: the account's factor, or one of its recovery codes in its place. */
export type ProvenFactor = SecondFactorType | "RECOVERY_CODE";
export type CodeOutcome = "ok" | "invalid" | "replayed";

/**
 * TOTP when the user has one (unless the app uses phone two-factor); SMS when the app uses
 * phone two-factor and the user turned it on for a verified phone.
 */
export function secondFactorFor(app: App, account: Account): SecondFactorType | null {
  if (app.twoFactor === "phone") return account.phoneTwoFactor && account.phoneVerified && account.phone ? "SMS" : null;
  return account.totpSecret ? "TOTP" : null;
}

/**
 * WEBAUTHN when the account has a passkey, beside its TOTP or alone; never in an app using phone
 * two-factor, nor for the Cosync-style flow (`cosync`), whose SDK knows no passkeys.
 */
export async function passkeyFactorFor(app: App, account: Account, cosync: boolean, passkeys: { has(accountId: string): Promise<boolean> } | null | undefined): Promise<"WEBAUTHN" | null> {
  if (app.twoFactor === "phone" || cosync || !passkeys) return null;
  return (account.hasPasskey ?? (await passkeys.has(account.id))) ? "WEBAUTHN" : null;
}

export class SecondFactorCheck {
  constructor(
    private readonly limits: SignInLimits,
    private readonly unreleased: (err: unknown) => void,
    private readonly spans: Spans | null = null,
  ) {}

  /** `verify` runs only within the limit; the attempt is reserved as a failure before it runs. */
  check(accountId: string, verify: () => Promise<CodeOutcome>): Promise<Checked<void>> {
    return this.spans ? this.spans.run("signin.second_factor", () => this.checkWithin(accountId, verify)) : this.checkWithin(accountId, verify);
  }

  private async checkWithin(accountId: string, verify: () => Promise<CodeOutcome>): Promise<Checked<void>> {
    const verdict = await this.limits.checkSecondFactor(accountId);
    if (verdict.limited) return refused(tooMany(verdict), "sign_in.blocked", verdict.limiter, accountId);
    let outcome: CodeOutcome;
    try {
      outcome = await verify();
    } catch (err) {
      await this.limits.releaseSecondFactor(accountId).catch(this.unreleased); // the code was not checked
      throw err;
    }
    await this.limits.recordSecondFactor(accountId, outcome === "ok", verdict);
    return outcome === "ok" ? passed(undefined) : refused(failureOf("INVALID_SECOND_FACTOR"), "second_factor.failure", outcome, accountId);
  }
}
