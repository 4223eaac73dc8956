// The step-up a change to the account's factors needs: the password, checked as a sign-in checks
// it (same limits, so a stolen session is no password oracle), or a session from a sign-in that
// passed a second factor within the step-up window.
import { loginKey, type AccountStore } from "../accounts/account.js";
import type { AppStore } from "../apps/app.js";
import type { Clock } from "../clock.js";
import { fail, failureOf, ok, type Result } from "../failure.js";
import { unreleasedReservation, type SignInLimits } from "../limits/sign-in-limits.js";
import type { Logger } from "../logger.js";
import type { PasswordHasher } from "../password/hasher.js";
import type { RequestContext } from "../request-context.js";
import type { Caller } from "../sessions/sessions.js";
import { stepUp } from "../sessions/step-up.js";
import { PasswordCheck } from "../sign-in/password-check.js";

export class StepUpProof {
  private readonly passwords: PasswordCheck;

  constructor(
    accounts: AccountStore,
    private readonly apps: AppStore,
    hasher: PasswordHasher,
    limits: SignInLimits,
    log: Logger,
    private readonly clock: Clock,
  ) {
    this.passwords = new PasswordCheck(accounts, hasher, limits, log, unreleasedReservation(log));
  }

  async prove(ctx: RequestContext, { account, session }: Caller, password?: string): Promise<Result<void>> {
    if (!password) return stepUp(session, this.clock.now());
    const app = { id: account.appId, lookup: this.apps.findById(account.appId) };
    const checked = await this.passwords.check({ ctx, app, login: loginKey(account.username), password, form: "plain" });
    if (!checked.ok) {
      const { failure } = checked.refusal;
      return { ok: false, failure: failure.reason === "INVALID_CREDENTIALS" ? failureOf("INVALID_CREDENTIALS", { message: "Invalid password" }) : failure };
    }
    return checked.value.account.id === account.id ? ok(undefined) : fail("INVALID_CREDENTIALS", { message: "Invalid password" });
  }
}
