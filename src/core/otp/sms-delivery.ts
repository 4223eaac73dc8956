// Sending an SMS code: within the per-account and per-phone limits, audited, and with a
// failed send refunded to the limits and reported as retryable.
import type { Account } from "../accounts/account.js";
import type { App } from "../apps/app.js";
import type { Audit } from "../audit.js";
import type { RequestContext } from "../request-context.js";
import { fail, ok, type Result } from "../failure.js";
import { tooMany, type SignInLimits, type SmsPurpose } from "../limits/sign-in-limits.js";
import type { Logger } from "../logger.js";
import { newSmsCode, type SmsSender } from "./sms.js";

/**
 * Sends a fresh SMS code within the per-account and per-phone limits; `store` keeps its hash
 * first. A send that fails is refunded to the limits and reported as retryable.
 */
export interface SmsDelivery {
  sms: SmsSender;
  limits: SignInLimits;
  audit: Audit;
  log: Logger;
}

export async function sendSms(
  deps: SmsDelivery,
  ctx: RequestContext,
  app: App,
  account: Account,
  phone: string,
  purpose: SmsPurpose,
  store: (code: string) => Promise<void>,
): Promise<Result<void>> {
  const decision = await deps.limits.sms(account.id, phone, purpose);
  if (decision.limited) {
    deps.audit.record(ctx, { event: "sign_in.blocked", appId: app.id, accountId: account.id, reason: decision.limiter });
    return { ok: false, failure: tooMany(decision) };
  }
  const code = newSmsCode();
  await store(code);
  try {
    await deps.sms.send({ to: phone, code, appId: app.id, purpose });
  } catch (err) {
    await deps.limits.refundSms(account.id, phone, purpose);
    deps.log.error({ err: (err as Error).message, appId: app.id, accountId: account.id }, "SMS send failed");
    deps.audit.record(ctx, { event: "sms.failed", appId: app.id, accountId: account.id, reason: purpose });
    return fail("SMS_UNAVAILABLE", { retryAfterSeconds: 30 });
  }
  deps.audit.record(ctx, { event: "sms.sent", appId: app.id, accountId: account.id, reason: purpose });
  return ok(undefined);
}
