// Sign-ins from new devices, POSTed as JSON {event, appId, accountId, ip, userAgent, at} to
// NOTIFY_WEBHOOK_URL (a product mails "new sign-in to your account"), signed as the SMS webhook:
// HMAC-SHA256 with NOTIFY_WEBHOOK_SECRET over "<timestamp>.<body>" (X-Signin-Timestamp,
// X-Signin-Signature), so the receiver can reject forged and replayed requests.
// Fire and forget: the sign-in never waits for it nor fails with it; a slow receiver costs at most
// MAX_IN_FLIGHT open requests, each at most 5 s (signed-webhook.ts), and what is dropped or fails is logged.
import type { Clock } from "../../core/clock.js";
import type { NewDeviceNotifier, NewDeviceSignIn } from "../../core/devices/new-device.js";
import type { Logger } from "../../core/logger.js";
import { postSigned } from "../signed-webhook.js";
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
    const { appId, accountId, ip, userAgent } = signIn;
    const at = new Date(this.clock.now()).toISOString();
    await postSigned(this.url, this.secret, this.clock, { event: "sign_in.new_device", appId, accountId, ip, userAgent, at });
  }
}
