// Sign-ins from new devices, POSTed as JSON {event, appId, accountId, ip, userAgent, at} to
// NOTIFY_WEBHOOK_URL (a product mails "new sign-in to your account"), signed as the SMS webhook:
// HMAC-SHA256 with NOTIFY_WEBHOOK_SECRET over "<timestamp>.<body>" (X-Signin-Timestamp,
// X-Signin-Signature), so the receiver can reject forged and replayed requests.
// Fire and forget: the sign-in never waits for it nor fails with it; a slow receiver costs at most
// MAX_IN_FLIGHT open requests, each at most TIMEOUT_MS, and what is dropped or fails is logged.
import { createHmac } from "node:crypto";
import type { Clock } from "../../core/clock.js";
import type { NewDeviceNotifier, NewDeviceSignIn } from "../../core/devices/new-device.js";
import type { Logger } from "../../core/logger.js";

const TIMEOUT_MS = 5000;
const MAX_IN_FLIGHT = 256;

export class WebhookNewDeviceNotifier implements NewDeviceNotifier {
  private inFlight = 0;

  constructor(
    private readonly url: string,
    private readonly secret: string,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  notify(signIn: NewDeviceSignIn): void {
    const about = { appId: signIn.appId, accountId: signIn.accountId };
    if (this.inFlight >= MAX_IN_FLIGHT) {
      this.log.warn(about, "new-device webhook not sent: too many requests in flight");
      return;
    }
    this.inFlight++;
    this.send(signIn)
      .catch((err: Error) => this.log.warn({ ...about, err: err.message }, "new-device webhook failed"))
      .finally(() => this.inFlight--);
  }

  private async send(signIn: NewDeviceSignIn): Promise<void> {
    const now = this.clock.now();
    const { appId, accountId, ip, userAgent } = signIn;
    const body = JSON.stringify({ event: "sign_in.new_device", appId, accountId, ip, userAgent, at: new Date(now).toISOString() });
    const timestamp = String(Math.floor(now / 1000));
    const signature = createHmac("sha256", this.secret).update(`${timestamp}.${body}`).digest("hex");
    const res = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-signin-timestamp": timestamp, "x-signin-signature": `sha256=${signature}` },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  }
}
