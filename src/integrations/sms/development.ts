// Without SMS_WEBHOOK_URL: log that a code was sent, never the code itself unless
// SMS_DEV_LOG_CODES=true (for local development only).
import type { Logger } from "../../core/logger.js";
import type { SmsMessage, SmsSender } from "../../core/otp/sms.js";

export class DevelopmentSmsSender implements SmsSender {
  constructor(
    private readonly log: Logger,
    private readonly logCodes: boolean,
  ) {}

  async send({ to, code, appId, purpose }: SmsMessage): Promise<void> {
    const masked = to.slice(0, 3) + "*".repeat(Math.max(0, to.length - 5)) + to.slice(-2);
    this.log.info({ to: masked, appId, purpose, ...(this.logCodes ? { code } : {}) }, "SMS code sent (development sender, no SMS_WEBHOOK_URL)");
  }
}
