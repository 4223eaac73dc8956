// The step-up a change to the account's factors needs: the password, checked as a sign-in checks
// it (same limits, so a stolen session is no password oracle), or a session from a sign-in that
// passed a second factor within the step-up window.
import type { AccountStore } from "../accounts/account.js";
import type { AppStore } from "../apps/app.js";
import type { Clock } from "../clock.js";
import type { Result } from "../failure.js";
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
    return this.passwords.confirm(ctx, account, { id: account.appId, lookup: this.apps.findById(account.appId) }, password);
  }
}
