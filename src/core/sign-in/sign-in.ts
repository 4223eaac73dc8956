// The sign-in use case, one for every surface (Yeep-style REST, Cosync-style REST, the RPCs):
// the password step answers "signed in" or "second factor required", the completion step takes
// a login token's code. The caller injects how its credentials are issued. Every decision is
// made and audited here, once: each refusal with its reason, a success once nothing can refuse it.
// Every success hands out a device credential (issued, or renewed for the device that presented
// one); a success without one for that account is a new device's, audited and notified.
import { loginKey, type Account, type AccountStore } from "../accounts/account.js";
import { appTokenHash, checkApp, sameTokenHash, type ActiveApp, type AppStore } from "../apps/app.js";
import type { Audit } from "../audit.js";
import { newDeviceId, type DeviceCredential, type DeviceCredentials } from "../devices/device-credential.js";
import type { NewDeviceNotifier } from "../devices/new-device.js";
import type { RememberedDevices } from "../devices/remembered-devices.js";
import { failureOf, ok, type Result } from "../failure.js";
import { unreleasedReservation, type SignInLimits } from "../limits/sign-in-limits.js";
import type { Logger } from "../logger.js";
import type { Challenges } from "../otp/challenges.js";
import type { SmsSender } from "../otp/sms.js";
import { normalRecoveryCode, type RecoveryCodes } from "../otp/recovery-codes.js";
import type { TotpVerifier } from "../otp/totp.js";
import type { PasskeyAssertions } from "../passkeys/assertions.js";
import type { PasswordHasher } from "../password/hasher.js";
import type { RequestContext } from "../request-context.js";
import { LoginTokens, type Answer } from "./login-tokens.js";
import { PasswordCheck, type PasswordAttempt } from "./password-check.js";
import { refusal, type Refusal } from "./refusal.js";
import type { Spans } from "../spans.js";
import { passkeyFactorFor, SecondFactorCheck, secondFactorFor, type CodeOutcome, type ProvenFactor, type SecondFactorType } from "./second-factor.js";

export type { AppRef } from "./password-check.js";
export type { ProvenFactor, SecondFactorType } from "./second-factor.js";

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
  secondFactor: ProvenFactor | null;
  /** The device signing in: its id in the device credential this sign-in hands out. */
  deviceId: string;
}
export type Deliver<C> = () => Promise<C>;


export interface SignedIn<C> {
  status: "signed_in";
  account: Account;
  credentials: C;
  /** The device credential for the caller to keep (the `device` cookie, or `deviceToken`). */
  deviceToken: string;
}

export interface SecondFactorRequired {
  status: "second_factor_required";
  factors: Array<SecondFactorType | "RECOVERY_CODE">;
  /** To complete with (`complete`), when the caller asked to continue with one. */
  loginToken?: string;
}

export interface PasswordStep extends PasswordAttempt {
  /** Yeep-style: the second factor sent with the password, in the same request. */
  secondFactor?: { type: string; token: string };
  /** Cosync-style: a pending second factor continues with a login token (an SMS code is sent). */
  continueWithLoginToken?: boolean;
  /** With the second factor: remember this device (the app's rememberDeviceDays; ignored when 0). */
  rememberDevice?: boolean;
}

export interface PasskeyStep {
  ctx: RequestContext;
  appId: string;
  /** AuthenticationResponseJSON, as the browser gave it. */
  assertion: string;
  rememberDevice?: boolean;
}

export interface CompletionStep {
  ctx: RequestContext;
  app: ActiveApp;
  loginToken: string;
  code: string;
  /** Remember this device (as PasswordStep's). */
  rememberDevice?: boolean;
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
  devices: DeviceCredentials;
  /** Devices whose sign-ins skip the second factor ("remember this device"); none = never remembered. */
  remembered?: RememberedDevices | null;
  /** Told of each sign-in from a new device (NOTIFY_WEBHOOK_URL); none = audited only. */
  newDevice?: NewDeviceNotifier | null;
  /** Passkey assertions (a second factor, and passwordless sign-in); none = passkeys not offered. */
  passkeys?: PasskeyAssertions | null;
  /** Single-use codes accepted in place of the account's factor; none = not offered. */
  recoveryCodes?: RecoveryCodes | null;
  /** Tracing: each step of a sign-in in its own span; none = not traced. */
  spans?: Spans | null;
}

export class SignIn {
  private readonly passwords: PasswordCheck;
  private readonly codes: SecondFactorCheck;
  private readonly loginTokens: LoginTokens;
  private readonly spans: Spans | null;

  constructor(private readonly deps: SignInDeps) {
    const unreleased = unreleasedReservation(deps.log);
    this.spans = deps.spans ?? null;
    this.passwords = new PasswordCheck(deps.accounts, deps.hasher, deps.limits, deps.log, unreleased, this.spans);
    this.codes = new SecondFactorCheck(deps.limits, unreleased, this.spans);
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
    const presented = this.deps.devices.open(ctx.deviceToken);
    const first = await this.passwords.check(step, presented);
    if (!first.ok) return this.refuse(ctx, step.app.id, first.refusal);
    const { app, account } = first.value;
    if (account.deactivated) return this.refuse(ctx, app.id, refusal(failureOf("ACCOUNT_DEACTIVATED"), "sign_in.failure", "deactivated", account.id));
    const device: SigningDevice = { presented, login: loginKey(step.login) };
    const passkey = await passkeyFactorFor(app, account, step.continueWithLoginToken === true, this.deps.passkeys);
    const factor = secondFactorFor(app, account) ?? passkey;
    if (!factor) return this.finish(ctx, app, account, issue, null, device);
    if (step.secondFactor?.type === "WEBAUTHN") {
      // The assertion's challenge is spent, and its counter saved, within the second-factor limit.
      const token = step.secondFactor.token;
      const asserted = await this.codes.check(account.id, async () => (passkey ? (await this.deps.passkeys!.verify(ctx, token, { accountId: account.id, userVerification: false, appId: app.id })).outcome : "invalid"));
      return asserted.ok ? this.finish(ctx, app, account, issue, "WEBAUTHN", { ...device, remember: step.rememberDevice }) : this.refuse(ctx, app.id, asserted.refusal);
    }
    // A code sent anyway is checked as always; without one, a remembered device skips the factor. Its
    // sign-in proves no second factor (null): a step-up still asks for the code or the password.
    if (!step.secondFactor && (await this.isRemembered(app, account, device.presented))) {
      this.deps.audit.record(ctx, { event: "second_factor.remembered", appId: app.id, accountId: account.id, reason: factor });
      return this.finish(ctx, app, account, issue, null, device);
    }
    if (step.secondFactor) {
      const { type, token } = step.secondFactor;
      // SMS needs a sent code, which only the two-step (login token) flow has.
      const code = await this.codes.check(account.id, async () =>
        type === "RECOVERY_CODE"
          ? this.useRecoveryCode(ctx, app, account, token)
          : type === "TOTP" && factor === "TOTP" ? this.deps.totp.verifyOnce(account.id, account.totpSecret!, token) : "invalid",
      );
      const proven = type === "RECOVERY_CODE" ? "RECOVERY_CODE" : factor;
      return code.ok ? this.finish(ctx, app, account, issue, proven, { ...device, remember: step.rememberDevice }) : this.refuse(ctx, app.id, code.refusal);
    }
    const loginToken = step.continueWithLoginToken ? await this.loginTokens.start(ctx, app, account, factor) : null;
    if (loginToken && !loginToken.ok) return loginToken; // the SMS was refused or could not be sent (audited as such)
    this.deps.audit.record(ctx, { event: "second_factor.required", appId: app.id, accountId: account.id, reason: factor });
    const backup = (await this.deps.recoveryCodes?.left(account)) ? (["RECOVERY_CODE"] as const) : [];
    return ok({ status: "second_factor_required", factors: [factor, ...(passkey && passkey !== factor ? [passkey] : []), ...backup], loginToken: loginToken?.value });
  }

  /**
   * Passwordless: a discoverable passkey's assertion, user verified (something the user has, and
   * knows or is), names the account and counts as two factors. Failures are audited as sign-in failures.
   */
  async withPasskey<C>(step: PasskeyStep, issue: Issue<C>): Promise<Result<SignedIn<C>>> {
    const { ctx } = step;
    const found = await this.deps.apps.findById(step.appId);
    if (!found) return this.refuse(ctx, step.appId, refusal(failureOf("APP_NOT_FOUND"), "sign_in.failure"));
    const active = checkApp(found);
    if (!active.ok) return this.refuse(ctx, found.id, refusal(active.failure, "sign_in.failure", found.status));
    const app = active.value;
    const allowed = this.deps.passkeys ? await this.deps.passkeys.allowed(ctx, app.id) : ok(undefined);
    if (!allowed.ok) return this.refuse(ctx, app.id, refusal(allowed.failure, "sign_in.blocked", "requests"));
    const asserted = this.deps.passkeys ? await this.deps.passkeys.verify(ctx, step.assertion, { userVerification: true, appId: app.id }) : { outcome: "invalid" as const };
    const account = asserted.accountId ? await this.deps.accounts.findById(asserted.accountId) : null;
    if (asserted.outcome !== "ok" || !account || account.appId !== app.id) {
      return this.refuse(ctx, app.id, refusal(failureOf("INVALID_CREDENTIALS", { message: "Invalid passkey" }), "sign_in.failure", `passkey_${asserted.outcome}`, account?.id));
    }
    if (account.deactivated) return this.refuse(ctx, app.id, refusal(failureOf("ACCOUNT_DEACTIVATED"), "sign_in.failure", "deactivated", account.id));
    const presented = this.deps.devices.open(ctx.deviceToken);
    const login = presented?.accountId === account.id ? presented.login : loginKey(account.email ?? account.username);
    return this.finish(ctx, app, account, issue, "WEBAUTHN", { presented, login, remember: step.rememberDevice });
  }

  /** The second step: a login token and its code (SMS or TOTP). */
  async complete<C>(step: CompletionStep, issue: Issue<C>): Promise<Result<SignedIn<C>>> {
    const { ctx, app } = step;
    const misuse = () => this.refuse(ctx, app.id, refusal(failureOf("INVALID_LOGIN_TOKEN"), "login_token.invalid"));
    const pending = await this.loginTokens.pending(step.loginToken, app.id);
    const account = pending && (await this.deps.accounts.findById(pending.accountId));
    if (!account) return misuse();
    let answer: Answer | undefined;
    // A recovery code in place of the factor's code (the Cosync SDK has one field for both).
    const recovery = normalRecoveryCode(step.code) ? () => this.useRecoveryCode(ctx, app, account, step.code) : undefined;
    const code = await this.codes.check(account.id, async () => {
      answer = await this.loginTokens.answer(
        step.loginToken,
        step.code,
        (c) => (account.totpSecret ? this.deps.totp.verifyOnce(account.id, account.totpSecret, c) : Promise.resolve("invalid")),
        recovery,
      );
      return answer === "token_dead" ? "invalid" : answer;
    });
    if (answer === "token_dead") return misuse();
    if (!code.ok) return this.refuse(ctx, app.id, code.refusal);
    if (account.deactivated) return this.refuse(ctx, app.id, refusal(failureOf("ACCOUNT_DEACTIVATED"), "sign_in.failure", "deactivated", account.id));
    // The login typed at the password step is not kept with the token: the handle (Cosync's login) stands in.
    const presented = this.deps.devices.open(ctx.deviceToken);
    const login = presented?.accountId === account.id ? presented.login : loginKey(account.email ?? account.username);
    return this.finish(ctx, app, account, issue, recovery ? "RECOVERY_CODE" : pending.factor, { presented, login, remember: step.rememberDevice });
  }

  /**
   * Issues the credentials and the device credential (the device keeps its id when it presented
   * a genuine one for this account and app); the success is audited once nothing can refuse it any
   * more, a new device's with it (same round trip), and the product is told once it is delivered.
   */
  private async finish<C>(ctx: RequestContext, app: ActiveApp, account: Account, issue: Issue<C>, factor: ProvenFactor | null, device: SigningDevice): Promise<Result<SignedIn<C>>> {
    const known = device.presented?.accountId === account.id && device.presented.appId === app.id ? device.presented : null;
    const deviceId = known?.deviceId ?? newDeviceId();
    const deviceToken = this.deps.devices.issue({ accountId: account.id, appId: app.id, login: device.login }, deviceId);
    const proof = { secondFactor: factor, deviceId };
    const issued = await (this.spans ? this.spans.run("signin.issue", () => issue(account, app, proof)) : issue(account, app, proof));
    if (!issued.ok) return this.refuse(ctx, app.id, refusal(issued.failure, "sign_in.failure", undefined, account.id));
    const delivering = this.spans ? this.spans.run("signin.deliver", () => issued.value()) : issued.value();
    this.deps.audit.record(ctx, { event: "sign_in.success", appId: app.id, accountId: account.id });
    if (!known) this.deps.audit.record(ctx, { event: "sign_in.new_device", appId: app.id, accountId: account.id });
    let credentials: C;
    try {
      // Remembered only by a sign-in that passed the factor and asked, in an app that remembers (else ignored).
      const remembering = device.remember && factor && app.rememberDeviceDays > 0 ? this.deps.remembered?.remember(account.id, deviceId, ctx, app.rememberDeviceDays) : undefined;
      [credentials] = await Promise.all([delivering, remembering]);
    } catch (err) {
      // An outage (the caller gets its error), not a refusal; the audit trail says so.
      this.deps.audit.record(ctx, { event: "sign_in.failure", appId: app.id, accountId: account.id, reason: "not_delivered" });
      throw err;
    }
    if (!known) this.deps.newDevice?.notify({ appId: app.id, accountId: account.id, ip: ctx.ip, userAgent: ctx.userAgent });
    return ok({ status: "signed_in", account, credentials, deviceToken });
  }

  /** A recovery code, spent (audited) if it is one of the account's unused ones. */
  private useRecoveryCode(ctx: RequestContext, app: ActiveApp, account: Account, code: string): Promise<CodeOutcome> {
    return this.deps.recoveryCodes ? this.deps.recoveryCodes.use(ctx, app.id, account.id, code) : Promise.resolve("invalid");
  }

  /** Whether the presented device credential is this account's and remembered: the one place that skips a second factor. */
  private async isRemembered(app: ActiveApp, account: Account, presented: DeviceCredential | null): Promise<boolean> {
    const { remembered } = this.deps;
    if (!remembered || app.rememberDeviceDays <= 0 || presented?.accountId !== account.id || presented.appId !== app.id) return false;
    return remembered.isRemembered(account.id, presented.deviceId, app.rememberDeviceDays);
  }

  private refuse(ctx: RequestContext, appId: string | undefined, r: Refusal): Result<never> {
    this.deps.audit.record(ctx, { event: r.event, appId, accountId: r.accountId, reason: r.reason ?? r.failure.reason.toLowerCase() });
    return { ok: false, failure: r.failure };
  }
}

/** The device a sign-in comes from: the credential it presented (opened), and the login it typed. */
interface SigningDevice {
  presented: DeviceCredential | null;
  login: string;
  /** Asked to remember the device (honoured only once the second factor passed). */
  remember?: boolean;
}
