// Two-step sign-in (Cosync-style): after the password, a login token stands for "password
// checked, second factor pending". Ours is single use, expires after 5 minutes and dies after
// 5 wrong codes (the original's was a reusable signed token with no expiry).
import { randomBytes } from "node:crypto";
import type { Account, AccountStore } from "../accounts/account.js";
import type { App } from "../apps/app.js";
import { fail, ok, type Result } from "../failure.js";
import type { Logger } from "../logger.js";
import { codeMatches, type Challenges } from "../otp/challenges.js";
import type { Audit } from "../audit.js";
import type { RequestContext } from "../request-context.js";
import type { SignInLimits } from "../limits/sign-in-limits.js";
import type { SmsSender } from "../otp/sms.js";
import { sendSms } from "../otp/sms-delivery.js";
import type { TotpOutcome, TotpVerifier } from "../otp/totp.js";
import type { SecondFactorType, SignIn } from "./sign-in.js";

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
    private readonly signIn: SignIn,
    private readonly limits: SignInLimits,
    private readonly audit: Audit,
    private readonly log: Logger,
  ) {}

  /** A new login token; for SMS a fresh code is sent first (no token when it cannot be sent). */
  async start(ctx: RequestContext, app: App, account: Account, factor: SecondFactorType): Promise<Result<string>> {
    const token = randomBytes(32).toString("base64url");
    if (factor === "SMS") {
      const sent = await sendSms({ sms: this.sms, limits: this.limits, audit: this.audit, log: this.log }, ctx, app, account, account.phone!, "login", (code) =>
        this.challenges.create<Pending>(key(token), { appId: app.id, accountId: account.id, factor }, LOGIN_TOKEN_TTL_MS, code),
      );
      if (!sent.ok) return sent;
    } else {
      await this.challenges.create<Pending>(key(token), { appId: app.id, accountId: account.id, factor }, LOGIN_TOKEN_TTL_MS);
    }
    this.signIn.secondFactorRequired({ ctx, app }, account, factor);
    return ok(token);
  }

  /** The account, once, for the right code; INVALID_SECOND_FACTOR for a wrong one. */
  async complete(ctx: RequestContext, app: App, token: string, code: string): Promise<Result<Account>> {
    const misuse = (): Result<Account> => {
      this.audit.record(ctx, { event: "login_token.invalid", appId: app.id });
      return fail("INVALID_LOGIN_TOKEN");
    };
    if (!TOKEN.test(token)) return misuse();
    const pending = await this.challenges.peek<Pending>(key(token));
    if (!pending || pending.data.appId !== app.id) return misuse();
    const account = await this.accounts.findById(pending.data.accountId);
    if (!account) return misuse();

    let tokenDied = false;
    const result = await this.signIn.checkSecondFactor({ ctx, app }, account, async () => {
      let totp: TotpOutcome = "invalid";
      const outcome = await this.challenges.attempt<Pending>(key(token), async (c) => {
        if (c.data.factor === "SMS") return codeMatches(key(token), c, code);
        totp = account.totpSecret ? await this.totp.verifyOnce(account.id, account.totpSecret, code) : "invalid";
        return totp === "ok";
      });
      tokenDied = outcome.status === "invalid";
      return outcome.status === "ok" ? "ok" : totp;
    });
    if (tokenDied) return misuse();
    if (result.ok && account.deactivated) return fail("ACCOUNT_DEACTIVATED");
    return result;
  }
}

const key = (token: string) => `login-token:${token}`;
