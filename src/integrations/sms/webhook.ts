// The shipped SMS sender: POSTs {to, code, appId, purpose} as JSON to SMS_WEBHOOK_URL, signed
// with HMAC-SHA256 over "<timestamp>.<body>" (headers X-Signin-Timestamp, X-Signin-Signature)
// so the receiver can reject forged and replayed requests.
import { createHmac } from "node:crypto";
import type { Clock } from "../../core/clock.js";
import type { SmsMessage, SmsSender } from "../../core/otp/sms.js";

const TIMEOUT_MS = 5000;

export class WebhookSmsSender implements SmsSender {
  constructor(
    private readonly url: string,
    private readonly secret: string,
    private readonly clock: Clock,
  ) {}

  async send(message: SmsMessage): Promise<void> {
    const body = JSON.stringify({ to: message.to, code: message.code, appId: message.appId, purpose: message.purpose });
    const timestamp = String(Math.floor(this.clock.now() / 1000));
    const signature = createHmac("sha256", this.secret).update(`${timestamp}.${body}`).digest("hex");
    const res = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-signin-timestamp": timestamp, "x-signin-signature": `sha256=${signature}` },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`SMS webhook answered HTTP ${res.status}`);
  }
}
