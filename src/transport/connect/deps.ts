// What the Connect service implementations are built from (wired in src/service.ts).
import type { AccountStore } from "../../core/accounts/account.js";
import type { Clock } from "../../core/clock.js";
import type { TotpEnrollment } from "../../core/otp/enrollment.js";
import type { Sessions } from "../../core/sessions/sessions.js";
import type { SignIn } from "../../core/sign-in/sign-in.js";
import type { CookiePolicy } from "./credentials.js";

export interface ServiceDeps {
  accounts: AccountStore;
  signIn: SignIn;
  sessions: Sessions;
  enrollment: TotpEnrollment;
  cookie: CookiePolicy;
  clock: Clock;
}
