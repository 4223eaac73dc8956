// SMS one-time codes: random (crypto), six digits, sent through a replaceable sender.
import { randomInt } from "node:crypto";

export interface SmsMessage {
  /** E.164 phone number. */
  to: string;
  code: string;
  appId: string;
  purpose: "login" | "verify-phone";
}

export interface SmsSender {
  /** Rejects when the message could not be handed over. */
  send(message: SmsMessage): Promise<void>;
}

export function newSmsCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, "0");
}

export const E164 = /^\+[1-9]\d{6,14}$/;
