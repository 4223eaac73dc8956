// Two-step sign-in (Cosync-style): after the password, a login token stands for "password
// checked, second factor pending". Ours is single use, expires after 5 minutes and dies after
// 5 wrong codes (the original's was a reusable signed token with no expiry).
import { randomBytes } from "node:crypto";
import type { Account, AccountStore } from "../accounts/account.js";
import type { App } from "../apps/app.js";
import { fail, ok, type Result } from "../failure.js";
import type { Logger } from "../logger.js";
import { codeMatches, type Challenges } from "../otp/challenges.js";
import { newSmsCode, type SmsSender } from "../otp/sms.js";
import type { TotpVerifier } from "../otp/totp.js";
import type { SecondFactorType } from "./sign-in.js";

export const LOGIN_TOKEN_TTL_MS = 5 * 60 * 1000;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

interface Pending {
  appId: string;
  accountId: string;
  factor: SecondFactorType;
}

export class LoginTokens {
  constructor(
    private readonly challenges: Challenges,
    private readonly accounts: AccountStore,
    private readonly totp: TotpVerifier,
    private readonly sms: SmsSender,
    private readonly log: Logger,
  ) {}

  /** A new login token; for SMS a fresh code is sent first (no token when it cannot be sent). */
  async start(app: App, account: Account, factor: SecondFactorType): Promise<Result<string>> {
    const token = randomBytes(32).toString("base64url");
    const code = factor === "SMS" ? newSmsCode() : undefined;
    await this.challenges.create<Pending>(key(token), { appId: app.id, accountId: account.id, factor }, LOGIN_TOKEN_TTL_MS, code);
    if (code) {
      try {
        await this.sms.send({ to: account.phone!, code, appId: app.id, purpose: "login" });
      } catch (err) {
        await this.challenges.delete(key(token));
        this.log.error({ err, appId: app.id, accountId: account.id }, "SMS send failed");
        return fail("SMS_UNAVAILABLE");
      }
    }
    return ok(token);
  }

  /** The account, once, for the right code; INVALID_SECOND_FACTOR for a wrong one. */
  async complete(app: App, token: string, code: string): Promise<Result<Account>> {
    if (!TOKEN.test(token)) return fail("INVALID_LOGIN_TOKEN");
    const pending = await this.challenges.peek<Pending>(key(token));
    if (!pending || pending.data.appId !== app.id) return fail("INVALID_LOGIN_TOKEN");
    const account = await this.accounts.findById(pending.data.accountId);
    if (!account) return fail("INVALID_LOGIN_TOKEN");

    const outcome = await this.challenges.attempt<Pending>(key(token), (c) =>
      c.data.factor === "SMS"
        ? codeMatches(key(token), c, code)
        : account.totpSecret !== null && this.totp.verifyOnce(account.id, account.totpSecret, code),
    );
    if (outcome.status === "invalid") return fail("INVALID_LOGIN_TOKEN");
    if (outcome.status === "wrong") return fail("INVALID_SECOND_FACTOR");
    if (account.deactivated) return fail("ACCOUNT_DEACTIVATED");
    return ok(account);
  }
}

const key = (token: string) => `login-token:${token}`;
