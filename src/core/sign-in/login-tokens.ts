// Login tokens (Cosync-style two-step sign-in) stand for "password checked, second factor
// pending". Ours are single use, expire after 5 minutes and die after 5 wrong codes (the
// original's was a reusable signed token with no expiry). Kept here; decided in sign-in.ts.
import { randomBytes } from "node:crypto";
import type { Account } from "../accounts/account.js";
import type { App } from "../apps/app.js";
import { ok, type Result } from "../failure.js";
import { codeMatches, type Challenges } from "../otp/challenges.js";
import { sendSms, type SmsDelivery } from "../otp/sms-delivery.js";
import type { RequestContext } from "../request-context.js";
import type { CodeOutcome, SecondFactorType } from "./second-factor.js";

export const LOGIN_TOKEN_TTL_MS = 5 * 60 * 1000;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export interface PendingSignIn {
  appId: string;
  accountId: string;
  factor: SecondFactorType;
}

/** A code's outcome, or the token dead (used, expired, or out of attempts) before it could count. */
export type Answer = CodeOutcome | "token_dead";

export class LoginTokens {
  constructor(
    private readonly challenges: Challenges,
    private readonly delivery: SmsDelivery,
  ) {}

  /** A new login token; for SMS a fresh code is sent first (no token when it cannot be sent). */
  async start(ctx: RequestContext, app: App, account: Account, factor: SecondFactorType): Promise<Result<string>> {
    const token = randomBytes(32).toString("base64url");
    const pending: PendingSignIn = { appId: app.id, accountId: account.id, factor };
    if (factor !== "SMS") {
      await this.challenges.create(key(token), pending, LOGIN_TOKEN_TTL_MS);
      return ok(token);
    }
    const sent = await sendSms(this.delivery, ctx, app, account, account.phone!, "login", (code) =>
      this.challenges.create(key(token), pending, LOGIN_TOKEN_TTL_MS, code),
    );
    return sent.ok ? ok(token) : sent;
  }

  /** What a live token of this app stands for; null for anything else. */
  async pending(token: string, appId: string): Promise<PendingSignIn | null> {
    if (!TOKEN.test(token)) return null;
    const challenge = await this.challenges.peek<PendingSignIn>(key(token));
    return challenge?.data.appId === appId ? challenge.data : null;
  }

  /**
   * One code against the token: SMS codes against the sent one, TOTP codes through `totp`, or a
   * code of another kind (a recovery code) through `other` instead. Right: the token is spent.
   */
  async answer(token: string, code: string, totp: (code: string) => Promise<CodeOutcome>, other?: () => Promise<CodeOutcome>): Promise<Answer> {
    let outcome: CodeOutcome = "invalid";
    const attempt = await this.challenges.attempt<PendingSignIn>(key(token), async (c) => {
      outcome = other ? await other() : c.data.factor === "SMS" ? (codeMatches(key(token), c, code) ? "ok" : "invalid") : await totp(code);
      return outcome === "ok";
    });
    return attempt.status === "invalid" ? "token_dead" : outcome;
  }
}

const key = (token: string) => `login-token:${token}`;
