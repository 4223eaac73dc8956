// The first factor: the account behind a login and password in an active app, within the
// limits (checked before any argon2 work) and at the same cost whether the account exists or
// not. It reports what it found or why not; the sign-in flow decides and audits. A genuine
// device credential for the same app and login makes the attempt a known device's (its own
// failure budget instead of the account's limits, see core/limits/sign-in-limits.ts).
import { loginKey, type Account, type AccountStore } from "../accounts/account.js";
import { checkApp, type ActiveApp, type App } from "../apps/app.js";
import type { DeviceCredential } from "../devices/device-credential.js";
import { fail, failureOf, ok, type Result } from "../failure.js";
import { tooMany, type Allowed, type Decision, type SignInLimits, type Subject } from "../limits/sign-in-limits.js";
import type { Logger } from "../logger.js";
import { HashPoolBusy } from "../password/hash-pool.js";
import type { PasswordHasher } from "../password/hasher.js";
import { passwordSecret, type PasswordForm } from "../password/secret.js";
import type { RequestContext } from "../request-context.js";
import { passed, refused, type Checked } from "./refusal.js";
import type { Spans } from "../spans.js";

/**
 * The app a sign-in is for: one already found active (by its token), or one known by id whose
 * lookup is under way; that lookup (a cache generation read) then goes to Redis together with
 * the limit check, in one round trip.
 */
export type AppRef = ActiveApp | { id: string; lookup: Promise<App | null> };

export interface PasswordAttempt {
  ctx: RequestContext;
  app: AppRef;
  /** Username, email or handle as typed. */
  login: string;
  password: string;
  form: PasswordForm;
}

export class PasswordCheck {
  constructor(
    private readonly accounts: AccountStore,
    private readonly hasher: PasswordHasher,
    private readonly limits: SignInLimits,
    private readonly log: Logger,
    private readonly unreleased: (err: unknown) => void,
    private readonly spans: Spans | null = null,
  ) {}

  /** `device`: the credential the caller presented, opened (genuine and unexpired) or null. */
  async check(a: PasswordAttempt, device: DeviceCredential | null = null): Promise<Checked<{ app: ActiveApp; account: Account }>> {
    const subject: Subject = { ip: a.ctx.ip, appId: a.app.id, login: loginKey(a.login) };
    if (device && device.appId === subject.appId && device.login === subject.login) subject.device = device.deviceId;
    const [app, decision] = "lookup" in a.app ? await this.lookUp(a.app.lookup, subject) : [passed(a.app), await this.checkLimits(subject)];
    if (!app.ok) return app;
    if (decision.limited) return refused(tooMany(decision), "sign_in.blocked", decision.limiter);
    // A known device's credential names the account it signed in to: for another account with
    // that login now (deleted and made again), the right password is not enough for its budget.
    const deviceAccount = decision.knownDevice ? device!.accountId : null;
    const account = await this.verify(app.value, subject, a, decision, deviceAccount);
    return account.ok ? passed({ app: app.value, account: account.value }) : account;
  }

  /**
   * A signed-in user's own password, as a step-up (removing a factor, new recovery codes, a new
   * passkey): checked as a sign-in checks it (the same limits, low hashing priority for suspects), so
   * a stolen session is no password oracle.
   */
  async confirm(ctx: RequestContext, account: Account, app: AppRef, password: string): Promise<Result<void>> {
    const checked = await this.check({ ctx, app, login: loginKey(account.username), password, form: "plain" });
    if (!checked.ok) {
      const { failure } = checked.refusal;
      return { ok: false, failure: failure.reason === "INVALID_CREDENTIALS" ? failureOf("INVALID_CREDENTIALS", { message: "Invalid password" }) : failure };
    }
    return checked.value.account.id === account.id ? ok(undefined) : fail("INVALID_CREDENTIALS", { message: "Invalid password" });
  }

  /** The app and the limits' decision, asked together; no reservation is kept for a refused app. */
  private async lookUp(lookup: Promise<App | null>, subject: Subject): Promise<[Checked<ActiveApp>, Decision]> {
    const [found, checked] = await Promise.allSettled([lookup, this.checkLimits(subject)]);
    const reserved = checked.status === "fulfilled" && !checked.value.limited ? checked.value : null;
    if (found.status === "rejected") {
      if (reserved) await this.limits.release(subject, reserved).catch(this.unreleased);
      throw found.reason;
    }
    if (checked.status === "rejected") throw checked.reason;
    const app = found.value ? checkApp(found.value) : null;
    if (app?.ok) return [passed(app.value), checked.value];
    if (reserved) await this.limits.release(subject, reserved); // no password was checked
    const refusal = app ? refused(app.failure, "sign_in.failure", found.value!.status) : refused(failureOf("APP_DELETED"), "sign_in.failure", "unknown_app");
    return [refusal, checked.value];
  }

  private checkLimits(subject: Subject): Promise<Decision> {
    return this.spans ? this.spans.run("signin.limits", () => this.limits.check(subject)) : this.limits.check(subject);
  }

  private async verify(app: ActiveApp, subject: Subject, a: PasswordAttempt, decision: Allowed, deviceAccount: string | null): Promise<Checked<Account>> {
    const secret = passwordSecret(app, a.password, a.form);
    const priority = decision.suspect ? "low" : "normal";
    let account: Account | null;
    let matches: boolean;
    let needsRehash = false;
    try {
      account = await (this.spans ? this.spans.run("signin.account_lookup", () => this.accounts.findByLogin(app.id, subject.login)) : this.accounts.findByLogin(app.id, subject.login));
      // Traced, the hash's wait for a slot and the hash itself are its children (HashPool).
      const hash = account?.passwordHash ?? null;
      const check = () => this.checkPassword(hash, secret, priority);
      ({ ok: matches, needsRehash } = await (this.spans ? this.spans.run("signin.password", check) : check()));
    } catch (err) {
      // The password was not checked: the attempt does not count (a failing release is then one failure too many).
      await this.limits.release(subject, decision).catch(this.unreleased);
      if (!(err instanceof HashPoolBusy)) throw err;
      return refused(failureOf("BUSY", { retryAfterSeconds: 1 }), "sign_in.busy");
    }
    if (matches && deviceAccount !== null && account?.id !== deviceAccount) matches = false;
    if (matches) {
      // Not awaited: the release goes out with the session write, not in a round trip of its own.
      // Should it fail, the attempt stays counted as a failure (stricter, never looser).
      this.limits.recordPassword(subject, true, decision).catch(this.unreleased);
    } else await this.limits.recordPassword(subject, false, decision);
    if (!account) return refused(failureOf("INVALID_CREDENTIALS"), "sign_in.failure", "unknown_account");
    if (!matches) return refused(failureOf("INVALID_CREDENTIALS"), "sign_in.failure", "wrong_password", account.id);
    if (needsRehash) await this.upgradeHash(account, secret);
    return passed(account);
  }

  /** The account's hash, or (no account) the dummy one at the same cost. */
  private async checkPassword(hash: string | null, secret: string, priority: "low" | "normal"): Promise<{ ok: boolean; needsRehash: boolean }> {
    return hash !== null ? this.hasher.verify(hash, secret, priority) : { ok: await this.hasher.verifyDummy(secret, priority), needsRehash: false };
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
