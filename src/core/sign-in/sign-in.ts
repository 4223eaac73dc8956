// The sign-in flow: app state, then the account (unknown accounts cost the same argon2
// work), the password, the account state, then which second factor applies. Deactivation is
// only revealed to someone who knows the password (the original told anyone).
import { loginKey, type Account, type AccountStore } from "../accounts/account.js";
import { checkApp, type App } from "../apps/app.js";
import type { Audit } from "../audit.js";
import type { RequestContext } from "../request-context.js";
import { fail, failureOf, ok, type Failure, type Result } from "../failure.js";
import type { Decision, Limited, SignInLimits, Subject } from "../limits/sign-in-limits.js";
import type { Logger } from "../logger.js";
import type { TotpVerifier } from "../otp/totp.js";
import { HashPoolBusy } from "../password/hash-pool.js";
import type { PasswordHasher } from "../password/hasher.js";
import { passwordSecret, type PasswordForm } from "../password/secret.js";

export type SecondFactorType = "TOTP" | "SMS";

/** Who asks, for which app. */
export interface Who {
  ctx: RequestContext;
  app: App;
}

export interface Credentials extends Who {
  /** Username, email or handle as typed. */
  login: string;
  password: string;
  form: PasswordForm;
}

export interface SignInRequest extends Credentials {
  secondFactor?: { type: string; token: string };
}

/**
 * A request for an app known by id whose lookup is still under way: the lookup (a cache
 * generation read) and the limit check go to Redis together, in one round trip.
 */
export type ByAppId<T extends Who> = Omit<T, "app"> & { appId: string; app: Promise<App | null> };

export class SignIn {
  constructor(
    private readonly accounts: AccountStore,
    private readonly hasher: PasswordHasher,
    private readonly totp: TotpVerifier,
    private readonly limits: SignInLimits,
    private readonly audit: Audit,
    private readonly log: Logger,
  ) {}

  /** A reservation that could not be given back stays counted as a failure: logged, not fatal. */
  private readonly unreleased = (err: unknown) => this.log.warn({ err }, "limit reservation not released");

  /** The first factor: the active app's account behind login and password. */
  async checkPassword(c: Credentials): Promise<Result<Account>> {
    const appState = checkApp(c.app);
    if (!appState.ok) return this.refuse(c, appState.failure, "sign_in.failure", undefined, c.app.status);
    const subject = subjectOf(c.ctx, c.app.id, c.login);
    return this.checkPasswordWithin(c, subject, await this.limits.check(subject));
  }

  private async checkPasswordWithin(c: Credentials, subject: Subject, decision: Decision): Promise<Result<Account>> {
    if (decision.limited) return this.refuse(c, tooMany(decision), "sign_in.blocked", undefined, decision.limiter);

    const secret = passwordSecret(c.app, c.password, c.form);
    let account: Account | null;
    let matches: boolean;
    let needsRehash = false;
    const priority = decision.suspect ? "low" : "normal";
    try {
      account = await this.accounts.findByLogin(c.app.id, subject.login);
      if (account) ({ ok: matches, needsRehash } = await this.hasher.verify(account.passwordHash, secret, priority));
      else matches = await this.hasher.verifyDummy(secret, priority);
    } catch (err) {
      // The password was not checked: the attempt does not count (a failing release is then one failure too many).
      await this.limits.release(subject).catch(this.unreleased);
      if (!(err instanceof HashPoolBusy)) throw err;
      return this.refuse(c, failureOf("BUSY", { retryAfterSeconds: 1 }), "sign_in.busy");
    }
    if (matches) {
      // Not awaited: the release goes out with the session write, not in a round trip of its own.
      // Should it fail, the attempt stays counted as a failure (stricter, never looser).
      this.limits.recordPassword(subject, true, decision).catch(this.unreleased);
    } else await this.limits.recordPassword(subject, false, decision);
    if (!account || !matches) {
      const why = account ? "wrong_password" : "unknown_account";
      return this.refuse(c, failureOf("INVALID_CREDENTIALS"), "sign_in.failure", account?.id, why);
    }
    if (account.deactivated) return this.refuse(c, failureOf("ACCOUNT_DEACTIVATED"), "sign_in.failure", account.id, "deactivated");
    if (needsRehash) await this.upgradeHash(account, secret);
    return ok(account);
  }

  /** Second-factor codes per account are limited too; `verify` runs only when allowed. */
  async checkSecondFactor(c: Who, account: Account, verify: () => Promise<"ok" | "invalid" | "replayed">): Promise<Result<Account>> {
    const decision = await this.limits.checkSecondFactor(account.id);
    if (decision.limited) return this.refuse(c, tooMany(decision), "sign_in.blocked", account.id, decision.limiter);
    let outcome: Awaited<ReturnType<typeof verify>>;
    try {
      outcome = await verify();
    } catch (err) {
      await this.limits.releaseSecondFactor(account.id).catch(this.unreleased);
      throw err;
    }
    await this.limits.recordSecondFactor(account.id, outcome === "ok");
    if (outcome !== "ok") return this.refuse(c, failureOf("INVALID_SECOND_FACTOR"), "second_factor.failure", account.id, outcome);
    return this.succeed(c, account);
  }

  /** Records a completed sign-in. */
  succeed(c: Who, account: Account): Result<Account> {
    this.audit.record(c.ctx, { event: "sign_in.success", appId: c.app.id, accountId: account.id });
    return ok(account);
  }

  private refuse(c: Who, failure: Failure, event: "sign_in.failure" | "sign_in.blocked" | "sign_in.busy" | "second_factor.failure", accountId?: string, reason?: string): Result<never> {
    this.audit.record(c.ctx, { event, appId: c.app.id, accountId, reason: reason ?? failure.reason.toLowerCase() });
    return { ok: false, failure };
  }

  /** Audit of a second factor being asked for. */
  secondFactorRequired(c: Who, account: Account, factor: SecondFactorType): void {
    this.audit.record(c.ctx, { event: "second_factor.required", appId: c.app.id, accountId: account.id, reason: factor });
  }

  /** Yeep-style: the password and, when one applies, a TOTP code in the same request. */
  async signIn(req: SignInRequest): Promise<Result<Account>> {
    return this.secondStep(req, await this.checkPassword(req));
  }

  /** `signIn` while the app is still being looked up (see ByAppId). */
  async signInById(req: ByAppId<SignInRequest>): Promise<Result<Account>> {
    const subject = subjectOf(req.ctx, req.appId, req.login);
    // The check goes out in the same tick as the app lookup; a failed lookup is the error to report.
    const [lookup, checked] = await Promise.allSettled([req.app, this.limits.check(subject)]);
    if (lookup.status === "rejected") {
      if (checked.status === "fulfilled" && !checked.value.limited) await this.limits.release(subject).catch(this.unreleased);
      throw lookup.reason;
    }
    if (checked.status === "rejected") throw checked.reason;
    const [app, decision] = [lookup.value, checked.value];
    const appState = app ? checkApp(app) : fail("APP_DELETED");
    if (!appState.ok) {
      if (!decision.limited) await this.limits.release(subject); // no password was checked
      return app ? this.refuse({ ...req, app }, appState.failure, "sign_in.failure", undefined, app.status) : appState;
    }
    const c = { ...req, app: appState.value };
    return this.secondStep(c, await this.checkPasswordWithin(c, subject, decision));
  }

  private async secondStep(req: SignInRequest, first: Result<Account>): Promise<Result<Account>> {
    if (!first.ok) return first;
    const account = first.value;
    const factor = secondFactorFor(req.app, account);
    if (!factor) return this.succeed(req, account);
    if (!req.secondFactor) {
      this.secondFactorRequired(req, account, factor);
      return fail("SECOND_FACTOR_REQUIRED", {
        message: `User "${req.login}" has enabled MFA; please specify secondary authentication factor`,
        applicableAuthFactorTypes: [factor],
      });
    }
    const { type, token } = req.secondFactor;
    // SMS needs a sent code, which only the two-step (login token) flow has.
    return this.checkSecondFactor(req, account, async () =>
      type === "TOTP" && factor === "TOTP" ? this.totp.verifyOnce(account.id, account.totpSecret!, token) : "invalid",
    );
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

const subjectOf = (ctx: RequestContext, appId: string, login: string): Subject => ({ ip: ctx.ip, appId, login: loginKey(login) });
const tooMany = (d: Limited): Failure => failureOf("TOO_MANY_ATTEMPTS", { retryAfterSeconds: d.retryAfterSeconds });

/**
 * The second factor that applies: TOTP when the user has one (unless the app uses phone
 * two-factor), SMS when the app uses phone two-factor and the user turned it on for a verified phone.
 */
export function secondFactorFor(app: App, account: Account): SecondFactorType | null {
  if (app.twoFactor === "phone") return account.phoneTwoFactor && account.phoneVerified && account.phone ? "SMS" : null;
  return account.totpSecret ? "TOTP" : null;
}
