// The sign-in use case, one for every surface (Yeep-style REST, Cosync-style REST, the RPCs):
// the password step answers "signed in" or "second factor required", the completion step takes
// a login token's code. The caller injects how its credentials are issued. Every decision is
// made and audited here, once: each refusal with its reason, a success once nothing can refuse it.
import type { Account, AccountStore } from "../accounts/account.js";
import { appTokenHash, checkApp, sameTokenHash, type ActiveApp, type AppStore } from "../apps/app.js";
import type { Audit } from "../audit.js";
import { failureOf, ok, type Result } from "../failure.js";
import { unreleasedReservation, type SignInLimits } from "../limits/sign-in-limits.js";
import type { Logger } from "../logger.js";
import type { Challenges } from "../otp/challenges.js";
import type { SmsSender } from "../otp/sms.js";
import type { TotpVerifier } from "../otp/totp.js";
import type { PasswordHasher } from "../password/hasher.js";
import type { RequestContext } from "../request-context.js";
import { LoginTokens, type Answer } from "./login-tokens.js";
import { PasswordCheck, type PasswordAttempt } from "./password-check.js";
import { refusal, type Refusal } from "./refusal.js";
import { SecondFactorCheck, secondFactorFor, type SecondFactorType } from "./second-factor.js";

export type { AppRef } from "./password-check.js";
export type { SecondFactorType } from "./second-factor.js";

/**
 * Issues a surface's credentials (a session for the Yeep-style API, an app's jwt + access-token
 * for app users), in two steps: first every check that can refuse the sign-in (a refusal, e.g.
 * INVALID_METADATA, refuses it), then `deliver`, whose writes and signing can fail only by an
 * outage. `deliver` is called together with the success's audit entry: a session write and that
 * entry go to Redis in one round trip.
 */
export type Issue<C> = (account: Account, app: ActiveApp, proof: SignInMethod) => Promise<Result<Deliver<C>>>;
/** How the user signed in: the second factor passed, if any (a step-up later asks for it). */
export interface SignInMethod {
  secondFactor: SecondFactorType | null;
}
export type Deliver<C> = () => Promise<C>;

/** Credentials made in full by the first step (signed tokens, nothing to store). */
export const delivered = <C>(issued: Result<C>): Result<Deliver<C>> => (issued.ok ? ok(() => Promise.resolve(issued.value)) : issued);

export interface SignedIn<C> {
  status: "signed_in";
  account: Account;
  credentials: C;
}

export interface SecondFactorRequired {
  status: "second_factor_required";
  factors: SecondFactorType[];
  /** To complete with (`complete`), when the caller asked to continue with one. */
  loginToken?: string;
}

export interface PasswordStep extends PasswordAttempt {
  /** Yeep-style: the second factor sent with the password, in the same request. */
  secondFactor?: { type: string; token: string };
  /** Cosync-style: a pending second factor continues with a login token (an SMS code is sent). */
  continueWithLoginToken?: boolean;
}

export interface CompletionStep {
  ctx: RequestContext;
  app: ActiveApp;
  loginToken: string;
  code: string;
}

export interface SignInDeps {
  apps: AppStore;
  accounts: AccountStore;
  hasher: PasswordHasher;
  totp: TotpVerifier;
  limits: SignInLimits;
  challenges: Challenges;
  sms: SmsSender;
  audit: Audit;
  log: Logger;
}

export class SignIn {
  private readonly passwords: PasswordCheck;
  private readonly codes: SecondFactorCheck;
  private readonly loginTokens: LoginTokens;

  constructor(private readonly deps: SignInDeps) {
    const unreleased = unreleasedReservation(deps.log);
    this.passwords = new PasswordCheck(deps.accounts, deps.hasher, deps.limits, deps.log, unreleased);
    this.codes = new SecondFactorCheck(deps.limits, unreleased);
    this.loginTokens = new LoginTokens(deps.challenges, deps);
  }

  /** The active app an `app-token` names (hashed, then compared in constant time). */
  async appForToken(ctx: RequestContext, token: string | null): Promise<Result<ActiveApp>> {
    const hash = token ? appTokenHash(token) : "";
    const app = hash ? await this.deps.apps.findByTokenHash(hash) : null;
    // The index lookup compares hashes, which leaks nothing usable about the token; the stored
    // hash is compared once more in constant time before it is trusted.
    if (!app?.tokenHash || !sameTokenHash(app.tokenHash, hash)) return this.refuse(ctx, undefined, refusal(failureOf("INVALID_APP_TOKEN"), "sign_in.failure"));
    const active = checkApp(app);
    return active.ok ? active : this.refuse(ctx, app.id, refusal(active.failure, "sign_in.failure", app.status));
  }

  /** The first step: the password and, Yeep-style, a second factor sent with it. */
  async withPassword<C>(step: PasswordStep, issue: Issue<C>): Promise<Result<SignedIn<C> | SecondFactorRequired>> {
    const { ctx } = step;
    const first = await this.passwords.check(step);
    if (!first.ok) return this.refuse(ctx, step.app.id, first.refusal);
    const { app, account } = first.value;
    if (account.deactivated) return this.refuse(ctx, app.id, refusal(failureOf("ACCOUNT_DEACTIVATED"), "sign_in.failure", "deactivated", account.id));
    const factor = secondFactorFor(app, account);
    if (!factor) return this.finish(ctx, app, account, issue, null);
    if (step.secondFactor) {
      const { type, token } = step.secondFactor;
      // SMS needs a sent code, which only the two-step (login token) flow has.
      const code = await this.codes.check(account.id, async () =>
        type === "TOTP" && factor === "TOTP" ? this.deps.totp.verifyOnce(account.id, account.totpSecret!, token) : "invalid",
      );
      return code.ok ? this.finish(ctx, app, account, issue, factor) : this.refuse(ctx, app.id, code.refusal);
    }
    const loginToken = step.continueWithLoginToken ? await this.loginTokens.start(ctx, app, account, factor) : null;
    if (loginToken && !loginToken.ok) return loginToken; // the SMS was refused or could not be sent (audited as such)
    this.deps.audit.record(ctx, { event: "second_factor.required", appId: app.id, accountId: account.id, reason: factor });
    return ok({ status: "second_factor_required", factors: [factor], loginToken: loginToken?.value });
  }

  /** The second step: a login token and its code (SMS or TOTP). */
  async complete<C>(step: CompletionStep, issue: Issue<C>): Promise<Result<SignedIn<C>>> {
    const { ctx, app } = step;
    const misuse = () => this.refuse(ctx, app.id, refusal(failureOf("INVALID_LOGIN_TOKEN"), "login_token.invalid"));
    const pending = await this.loginTokens.pending(step.loginToken, app.id);
    const account = pending && (await this.deps.accounts.findById(pending.accountId));
    if (!account) return misuse();
    let answer: Answer | undefined;
    const code = await this.codes.check(account.id, async () => {
      answer = await this.loginTokens.answer(step.loginToken, step.code, (c) =>
        account.totpSecret ? this.deps.totp.verifyOnce(account.id, account.totpSecret, c) : Promise.resolve("invalid"),
      );
      return answer === "token_dead" ? "invalid" : answer;
    });
    if (answer === "token_dead") return misuse();
    if (!code.ok) return this.refuse(ctx, app.id, code.refusal);
    if (account.deactivated) return this.refuse(ctx, app.id, refusal(failureOf("ACCOUNT_DEACTIVATED"), "sign_in.failure", "deactivated", account.id));
    return this.finish(ctx, app, account, issue, pending.factor);
  }

  /** Issues the credentials; the success is audited once nothing can refuse it any more. */
  private async finish<C>(ctx: RequestContext, app: ActiveApp, account: Account, issue: Issue<C>, factor: SecondFactorType | null): Promise<Result<SignedIn<C>>> {
    const issued = await issue(account, app, { secondFactor: factor });
    if (!issued.ok) return this.refuse(ctx, app.id, refusal(issued.failure, "sign_in.failure", undefined, account.id));
    const delivering = issued.value();
    this.deps.audit.record(ctx, { event: "sign_in.success", appId: app.id, accountId: account.id });
    try {
      return ok({ status: "signed_in", account, credentials: await delivering });
    } catch (err) {
      // An outage (the caller gets its error), not a refusal; the audit trail says so.
      this.deps.audit.record(ctx, { event: "sign_in.failure", appId: app.id, accountId: account.id, reason: "not_delivered" });
      throw err;
    }
  }

  private refuse(ctx: RequestContext, appId: string | undefined, r: Refusal): Result<never> {
    this.deps.audit.record(ctx, { event: r.event, appId, accountId: r.accountId, reason: r.reason ?? r.failure.reason.toLowerCase() });
    return { ok: false, failure: r.failure };
  }
}
