// TOTP codes (RFC 6238: SHA-1, 6 digits, 30 s, +-1 step) accepted once only:
// the last accepted time step per account is remembered atomically (ASVS 2.8.4).
import { generateSecret, generateURI, verify } from "otplib";
import type { Clock } from "../clock.js";
import type { EphemeralStore } from "../ephemeral.js";

export const TOTP_PERIOD_SECONDS = 30;
const TOLERANCE_STEPS = 1;
// Long enough that a step can no longer fall inside the accepted window once the guard expires.
const GUARD_TTL_MS = (2 * TOLERANCE_STEPS + 2) * TOTP_PERIOD_SECONDS * 1000;
const CODE = /^\d{6}$/;

export type TotpOutcome = "ok" | "invalid" | "replayed";

export class TotpVerifier {
  constructor(
    private readonly store: EphemeralStore,
    private readonly clock: Clock,
  ) {}

  /** "ok" only for a valid code of a time step later than any accepted before for this account. */
  async verifyOnce(accountId: string, secret: string, code: string): Promise<TotpOutcome> {
    if (!CODE.test(code)) return "invalid";
    const epoch = Math.floor(this.clock.now() / 1000);
    let result;
    try {
      result = await verify({
        secret,
        token: code,
        epoch,
        epochTolerance: TOLERANCE_STEPS * TOTP_PERIOD_SECONDS,
      });
    } catch {
      return "invalid"; // unusable secret
    }
    if (!result.valid) return "invalid";
    const step = Math.floor(epoch / TOTP_PERIOD_SECONDS) + result.delta;
    return (await this.store.advance(`totp:last-step:${accountId}`, step, GUARD_TTL_MS)) ? "ok" : "replayed";
  }
}

export function newTotpSecret(): string {
  return generateSecret();
}

export function totpUri(issuer: string, label: string, secret: string): string {
  return generateURI({ issuer, label, secret });
}
