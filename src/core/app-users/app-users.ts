// What a signed-in app user manages (Cosync-style user methods): phone number and its
// verification by SMS, and turning phone or Google (TOTP) two-factor on and off. Turning on a
// factor where none is active needs only the access token (as the Cosync SDK expects); removing
// or replacing an active one needs a step-up (a token from a recent sign-in with it), and then
// ends every other session and token of the account. Each access-token has a record (the session
// list): issued with it, required when it is used, so one can be revoked on its own.
import QRCode from "qrcode";
import type { Account, AccountStore } from "../accounts/account.js";
import type { App, AppStore } from "../apps/app.js";
import { fail, ok, type Result } from "../failure.js";
import type { Logger } from "../logger.js";
import { codeMatches, type Challenges } from "../otp/challenges.js";
import type { Audit } from "../audit.js";
import type { RequestContext } from "../request-context.js";
import { unreleasedReservation, type SignInLimits } from "../limits/sign-in-limits.js";
import { SecondFactorCheck, secondFactorFor } from "../sign-in/second-factor.js";
import type { Clock } from "../clock.js";
import { STEP_UP_WINDOW_MS, stepUp } from "../sessions/step-up.js";
import type { SmsSender } from "../otp/sms.js";
import { sendSms } from "../otp/sms-delivery.js";
import { newTotpSecret, totpUri } from "../otp/totp.js";
import type { RecoveryCodes } from "../otp/recovery-codes.js";
import { ends, type Revocations } from "../sessions/revocations.js";
import { checkApp } from "../apps/app.js";
import type { AccessClaims, AppTokens, AppUserTokens } from "../tokens/app-tokens.js";
import { sessionInfo, type SessionRecords } from "../sessions/session-records.js";
import type { Deliver, SignInMethod } from "../sign-in/sign-in.js";

const PHONE_CODE_TTL_MS = 10 * 60 * 1000; // 800-63B: SMS codes live at most 10 minutes

export interface AppUser {
  app: App;
  account: Account;
  /** The access token's claims: its id and how the user signed in. */
  token: AccessClaims;
}

export class AppUsers {
  private readonly codes: SecondFactorCheck;

  constructor(
    private readonly apps: AppStore,
    private readonly accounts: AccountStore,
    private readonly tokens: AppTokens,
    private readonly challenges: Challenges,
    private readonly sms: SmsSender,
    private readonly limits: SignInLimits,
    private readonly audit: Audit,
    private readonly revocations: Revocations,
    private readonly totpIssuer: string,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly records: SessionRecords,
    private readonly recoveryCodes: RecoveryCodes | null,
    private readonly stepUpWindowMs: number = STEP_UP_WINDOW_MS,
  ) {
    this.codes = new SecondFactorCheck(limits, unreleasedReservation(log));
  }

  /** The user behind an access token; the app comes from the token itself. */
  async fromAccessToken(token: string | null): Promise<Result<AppUser>> {
    const claims = token ? await this.tokens.verifyAccess(token) : null;
    if (!claims) return fail("NOT_AUTHENTICATED");
    // One round trip: the app's and account's (cached) reads, the revocation time and the token's record.
    const [app, account, revocation, live] = await Promise.all([
      this.apps.findById(claims.appId),
      this.accounts.findById(claims.accountId),
      this.revocations.revocation(claims.accountId),
      this.records.accessTokenLive(claims.accountId, claims.tokenId),
    ]);
    if (!app || !account || !live || account.appId !== app.id || ends(revocation, claims.issuedAtMs, claims.tokenId)) return fail("NOT_AUTHENTICATED");
    const appState = checkApp(app);
    if (!appState.ok) return appState;
    if (account.deactivated) return fail("ACCOUNT_DEACTIVATED");
    return ok({ app, account, token: claims });
  }

  /**
   * A signed-in app user's jwt and access-token (a missing required metadata field refuses here);
   * delivering writes the access-token's record, in the same round trip as the success's audit.
   */
  async issue(ctx: RequestContext, app: App, account: Account, how: SignInMethod): Promise<Result<Deliver<AppUserTokens>>> {
    const issued = await this.tokens.issue(app, account, { secondFactor: how.secondFactor && (how.secondFactor === "SMS" ? "sms" : "otp") });
    if (!issued.ok) return issued;
    const { tokens, tokenId, issuedAtMs, expiresAtMs } = issued.value;
    const info = sessionInfo(account.id, "access-token", ctx, issuedAtMs, how.deviceId);
    return ok(async () => {
      await this.records.startAccessToken(tokenId, info, expiresAtMs, issuedAtMs);
      return tokens;
    });
  }

  /** Stores the number unverified and sends it a code; a new number turns phone two-factor off. */
  async setPhone(ctx: RequestContext, user: AppUser, phone: string): Promise<Result<void>> {
    const { app, account } = user;
    const removes = secondFactorFor(app, account) === "SMS"; // a new number turns the active factor off
    if (removes) {
      const proof = this.stepUp(user);
      if (!proof.ok) return proof;
    }
    const sent = await sendSms({ sms: this.sms, limits: this.limits, audit: this.audit, log: this.log }, ctx, app, account, phone, "verify-phone", (code) =>
      this.challenges.create(phoneKey(account.id), { phone }, PHONE_CODE_TTL_MS, code),
    );
    if (!sent.ok) {
      await this.challenges.delete(phoneKey(account.id));
      return sent;
    }
    await this.accounts.setPhone(account.id, { phone, phoneVerified: false, phoneTwoFactor: false });
    if (removes) await this.endOtherSessions(user);
    return ok(undefined);
  }

  async verifyPhone({ account }: AppUser, code: string): Promise<Result<void>> {
    const key = phoneKey(account.id);
    let phone: string | undefined;
    // A wrong code counts against the account's second-factor limit, as at sign-in.
    const checked = await this.codes.check(account.id, async () => {
      const outcome = await this.challenges.attempt<{ phone: string }>(key, (c) => codeMatches(key, c, code));
      if (outcome.status === "ok") phone = outcome.data.phone;
      return outcome.status === "ok" ? "ok" : "invalid";
    });
    if (!checked.ok && checked.refusal.failure.reason !== "INVALID_SECOND_FACTOR") return { ok: false, failure: checked.refusal.failure };
    if (!checked.ok || phone !== account.phone) return fail("INVALID_CODE");
    await this.accounts.setPhone(account.id, { phone: account.phone, phoneVerified: true, phoneTwoFactor: account.phoneTwoFactor });
    return ok(undefined);
  }

  async setPhoneTwoFactor(user: AppUser, on: boolean): Promise<Result<void>> {
    const { app, account } = user;
    if (app.twoFactor !== "phone") return fail("APP_HAS_NO_PHONE_TWO_FACTOR");
    if (on && !(account.phone && account.phoneVerified)) return fail("PHONE_NOT_VERIFIED");
    const removes = !on && secondFactorFor(app, account) === "SMS";
    if (removes) {
      const proof = this.stepUp(user);
      if (!proof.ok) return proof;
    }
    await this.accounts.setPhone(account.id, { phone: account.phone, phoneVerified: account.phoneVerified, phoneTwoFactor: on });
    if (removes) await this.endOtherSessions(user);
    return ok(undefined);
  }

  /**
   * On: a new TOTP secret, returned once with its QR code (as the original did). Off: removed.
   * Either, over an active secret, removes that secret: a step-up first, the other sessions end after.
   */
  async setGoogleTwoFactor(user: AppUser, on: boolean): Promise<Result<{ secret: string; qrcode: string } | null>> {
    const { app, account } = user;
    if (app.twoFactor !== "google") return fail("APP_HAS_NO_GOOGLE_TWO_FACTOR");
    const removes = account.totpSecret !== null;
    if (removes) {
      const proof = this.stepUp(user);
      if (!proof.ok) return proof;
    }
    if (!on) {
      await this.accounts.setTotpSecret(account.id, null);
      if (removes) await this.endOtherSessions(user);
      return ok(null);
    }
    const secret = newTotpSecret();
    await this.accounts.setTotpSecret(account.id, secret);
    if (removes) await this.endOtherSessions(user);
    const qrcode = await QRCode.toDataURL(totpUri(this.totpIssuer, account.email ?? account.username, secret));
    return ok({ secret, qrcode });
  }

  /** The access token must come from a sign-in that passed a second factor minutes ago. */
  private stepUp({ token }: AppUser): Result<void> {
    return stepUp({ signedInAt: token.issuedAtMs, secondFactor: token.secondFactor }, this.clock.now(), this.stepUpWindowMs);
  }

  /**
   * A factor was removed or replaced: every session and token of the account ends, but the
   * caller's token; with no factor left, the recovery codes go too.
   */
  private async endOtherSessions({ app, account, token }: AppUser): Promise<void> {
    await this.recoveryCodes?.afterFactorRemoved(app, await this.accounts.findById(account.id));
    await this.revocations.revokeAll(account.id, token.tokenId);
  }
}

const phoneKey = (accountId: string) => `phone-verify:${accountId}`;
