// What the Connect service implementations are built from (wired in src/service.ts).
import type { HandlerContext } from "@connectrpc/connect";
import type { AccountStore } from "../../core/accounts/account.js";
import type { RequestContext } from "../../core/request-context.js";
import type { Metrics } from "../../observability/metrics.js";
import { requestContextKey } from "../request-context.js";
import type { AppUsers } from "../../core/app-users/app-users.js";
import type { AppStore } from "../../core/apps/app.js";
import type { AppTokens } from "../../core/tokens/app-tokens.js";
import type { Clock } from "../../core/clock.js";
import type { TotpEnrollment } from "../../core/otp/enrollment.js";
import type { Passkeys } from "../../core/passkeys/passkeys.js";
import type { PasskeyAssertions } from "../../core/passkeys/assertions.js";
import type { RecoveryCodes } from "../../core/otp/recovery-codes.js";
import type { Sessions } from "../../core/sessions/sessions.js";
import type { SessionList } from "../../core/sessions/session-list.js";
import type { SignIn } from "../../core/sign-in/sign-in.js";
import type { CookiePolicy } from "./credentials.js";

export interface ServiceDeps {
  accounts: AccountStore;
  apps: AppStore;
  /** The app the Yeep-style API serves. */
  defaultAppId: string;
  appTokens: AppTokens;
  appUsers: AppUsers;
  signIn: SignIn;
  sessions: Sessions;
  /** The caller's sessions (SessionService ListSessions, RevokeSession, RevokeOtherSessions). */
  sessionList: SessionList;
  enrollment: TotpEnrollment;
  /** The caller's passkeys (PasskeyService). */
  passkeys: Passkeys;
  /** Passkey sign-in challenges (PasskeyService AuthenticationOptions). */
  passkeyAssertions: PasskeyAssertions;
  /** How many recovery codes an account has left (user.info). */
  recoveryCodes: RecoveryCodes;
  cookie: CookiePolicy;
  clock: Clock;
  metrics: Metrics;
}

/** The request context the transport put on the handler context. */
export function who(ctx: HandlerContext): RequestContext {
  return ctx.values.get(requestContextKey);
}
