// The shipped SMS sender: POSTs {to, code, appId, purpose} as JSON to SMS_WEBHOOK_URL, signed
// with SMS_WEBHOOK_SECRET (see ../signed-webhook.ts).
import type { Clock } from "../../core/clock.js";
import type { SmsMessage, SmsSender } from "../../core/otp/sms.js";
import { postSigned } from "../signed-webhook.js";

export class WebhookSmsSender implements SmsSender {
  constructor(
    private readonly url: string,
    private readonly secret: string,
    private readonly clock: Clock,
  ) {}

  async send(message: SmsMessage): Promise<void> {
    const { to, code, appId, purpose } = message;
    await postSigned(this.url, this.secret, this.clock, { to, code, appId, purpose }).catch((err: Error) => {
      throw new Error(`SMS webhook failed: ${err.message}`);
    });
  }
}
