// Enrolling a TOTP factor: a pending secret (15 min) is shown once as text, URI and QR code;
// activation proves the authenticator holds it, and spends that code so it cannot sign in.
// Codes and passwords checked here go through the sign-in's limits, as at sign-in.
import { timingSafeEqual } from "node:crypto";
import QRCode from "qrcode";
import type { Account, AccountStore } from "../accounts/account.js";
import type { EphemeralStore } from "../ephemeral.js";
import { fail, ok, type Result } from "../failure.js";
import type { AppStore } from "../apps/app.js";
import { unreleasedReservation, type SignInLimits } from "../limits/sign-in-limits.js";
import type { Logger } from "../logger.js";
import type { PasswordHasher } from "../password/hasher.js";
import type { RequestContext } from "../request-context.js";
import type { Sealer } from "../secrets/sealer.js";
import type { Caller } from "../sessions/sessions.js";
import type { Revocations } from "../sessions/revocations.js";
import { PasswordCheck } from "../sign-in/password-check.js";
import { SecondFactorCheck, secondFactorFor } from "../sign-in/second-factor.js";
import type { RecoveryCodes } from "./recovery-codes.js";
import { newTotpSecret, totpUri, type TotpVerifier } from "./totp.js";

const PENDING_TTL_MS = 15 * 60 * 1000;

export interface PendingTotp {
  secret: string;
  uri: string;
  /** PNG data URL of the otpauth URI. */
  qrcode: string;
}

export interface EnrollmentGuards {
  limits: SignInLimits;
  revocations: Revocations;
  log: Logger;
  /** The pending secret waits in the short-lived store (Redis) sealed, as the account's is in the database. */
  sealer: Sealer;
  /** Dropped with the last factor; generated behind the same step-up as a removal. */
  recoveryCodes: RecoveryCodes;
}

/** A step-up sent with the request: the password, or a current code of the account's factor (TOTP). */
export interface FactorProof {
  type: string;
  token: string;
}

export class TotpEnrollment {
  private readonly passwords: PasswordCheck;
  private readonly codes: SecondFactorCheck;
  private readonly revocations: Revocations;
  private readonly sealer: Sealer;
  private readonly recoveryCodes: RecoveryCodes;

  constructor(
    private readonly accounts: AccountStore,
    private readonly apps: AppStore,
    private readonly store: EphemeralStore,
    private readonly totp: TotpVerifier,
    hasher: PasswordHasher,
    private readonly issuer: string,
    guards: EnrollmentGuards,
  ) {
    const unreleased = unreleasedReservation(guards.log);
    this.passwords = new PasswordCheck(accounts, hasher, guards.limits, guards.log, unreleased);
    this.codes = new SecondFactorCheck(guards.limits, unreleased);
    this.revocations = guards.revocations;
    this.sealer = guards.sealer;
    this.recoveryCodes = guards.recoveryCodes;
  }

  async enroll(account: Account): Promise<Result<PendingTotp>> {
    if (account.totpSecret) return fail("FACTOR_ALREADY_EXISTS");
    const secret = newTotpSecret();
    const uri = totpUri(this.issuer, account.email ?? account.username, secret);
    await this.store.set(pendingKey(account.id), this.sealer.seal(secret, pendingKey(account.id)), PENDING_TTL_MS);
    return ok({ secret, uri, qrcode: await QRCode.toDataURL(uri) });
  }

  async activate(account: Account, code: string, secret?: string): Promise<Result<void>> {
    if (account.totpSecret) return fail("FACTOR_ALREADY_EXISTS");
    const stored = await this.store.get(pendingKey(account.id));
    if (!stored) return fail("FACTOR_NOT_FOUND", { message: "No pending TOTP enrollment" });
    const pending = this.sealer.open(stored, pendingKey(account.id));
    if (secret && !sameText(secret, pending)) return fail("INVALID_ENROLLMENT_CODE");
    // A wrong code counts against the account's second-factor limit, as at sign-in.
    const checked = await this.codes.check(account.id, () => this.totp.verifyOnce(account.id, pending, code));
    if (!checked.ok) return checked.refusal.failure.reason === "INVALID_SECOND_FACTOR" ? fail("INVALID_ENROLLMENT_CODE") : { ok: false, failure: checked.refusal.failure };
    await this.accounts.setTotpSecret(account.id, pending);
    await this.store.delete(pendingKey(account.id));
    return ok(undefined);
  }

  /**
   * Removes the factor on proof of the password, checked as a sign-in checks it (the same limits,
   * low hashing priority for suspects), so a stolen session is no password oracle. Every other
   * session and token of the account ends; the caller's stays.
   */
  async eject(ctx: RequestContext, { account, session }: Caller, password: string): Promise<Result<void>> {
    const proved = await this.provePassword(ctx, account, password);
    if (!proved.ok) return proved;
    if (!account.totpSecret) return fail("FACTOR_NOT_FOUND");
    await this.accounts.setTotpSecret(account.id, null);
    await this.recoveryCodes.afterFactorRemoved(await this.apps.findById(account.appId), await this.accounts.findById(account.id));
    await this.revocations.revokeAll(account.id, session.chain);
    return ok(undefined);
  }

  /**
   * A new set of recovery codes (the old set stops working), behind a step-up: the password, or a
   * current TOTP code (spent, under the second-factor limit). Only while a real factor is active,
   * as the codes stand in for it.
   */
  async generateRecoveryCodes(ctx: RequestContext, account: Account, proof: FactorProof): Promise<Result<string[]>> {
    const app = await this.apps.findById(account.appId);
    const factor = app && secondFactorFor(app, account);
    if (!app || !(await this.recoveryCodes.backUp(app, account))) return fail("FACTOR_NOT_FOUND", { message: "Recovery codes stand in for a second factor: turn one on first" });
    if (proof.type === "PASSWORD") {
      const proved = await this.provePassword(ctx, account, proof.token);
      if (!proved.ok) return proved;
    } else {
      if (proof.type !== "TOTP" || factor !== "TOTP") return fail("INVALID_SECOND_FACTOR");
      const checked = await this.codes.check(account.id, () => this.totp.verifyOnce(account.id, account.totpSecret!, proof.token));
      if (!checked.ok) return { ok: false, failure: checked.refusal.failure };
    }
    return ok(await this.recoveryCodes.generate(ctx, account));
  }

  private provePassword(ctx: RequestContext, account: Account, password: string): Promise<Result<void>> {
    return this.passwords.confirm(ctx, account, { id: account.appId, lookup: this.apps.findById(account.appId) }, password);
  }
}

const pendingKey = (accountId: string) => `totp:pending:${accountId}`;

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
