// "Remember this device": after a sign-in that passed the second factor and asked for it, that
// device (named by its device credential's id) skips the second factor for the app's
// rememberDeviceDays. Kept server-side in the shared store (so it can be listed and revoked), keyed
// by the account and a SHA-256 of the device id: a store dump does not name the devices. A record
// counts only while it is newer than the account's revocation stamp, so a new password, a removed
// or replaced factor, a deactivation or "sign out everywhere" ends every remembered device at once.
import { createHash } from "node:crypto";
import type { Clock } from "../clock.js";
import type { EphemeralStore } from "../ephemeral.js";
import type { RequestContext } from "../request-context.js";
import type { Revocations } from "../sessions/revocations.js";

export const DAY_MS = 24 * 3600 * 1000;
/** Remembered devices listed per account; beyond, the ones ending first are dropped from the list (they still expire on their own). */
const MAX_LISTED = 50;
/** A user agent is kept for the list, not parsed here: bounded. */
const MAX_USER_AGENT = 256;

export interface RememberedDevice {
  /** base64url SHA-256 of the device id: what the store knows of the device. */
  deviceHash: string;
  /** When the second factor was passed and the device remembered (ms). */
  createdAt: number;
  /** When it stops skipping the second factor (ms). */
  endsAt: number;
  /** Client IP (as the limits group it) and user agent of that sign-in. */
  ip: string;
  userAgent: string;
}

type Stored = Omit<RememberedDevice, "deviceHash">;

export class RememberedDevices {
  constructor(
    private readonly store: EphemeralStore,
    private readonly revocations: Revocations,
    private readonly clock: Clock,
  ) {}

  /** Remembers the device for `days` (the app's rememberDeviceDays; 0 remembers nothing). */
  async remember(accountId: string, deviceId: string, ctx: RequestContext, days: number): Promise<void> {
    if (days <= 0) return;
    const now = this.clock.now();
    const ttlMs = days * DAY_MS;
    const hash = deviceHash(deviceId);
    const record: Stored = { createdAt: now, endsAt: now + ttlMs, ip: ctx.ip, userAgent: ctx.userAgent.slice(0, MAX_USER_AGENT) };
    await Promise.all([
      this.store.set(recordKey(accountId, hash), JSON.stringify(record), ttlMs),
      this.store.addMember(indexKey(accountId), hash, record.endsAt, now, MAX_LISTED),
    ]);
  }

  /**
   * Whether the device skips the second factor now: remembered, newer than the account's revocation
   * stamp and, when `withinDays` is given (the app's current setting), remembered at most that long ago,
   * so shortening an app's period applies to devices remembered before.
   */
  async isRemembered(accountId: string, deviceId: string, withinDays?: number): Promise<boolean> {
    // One round trip: both reads go out together.
    const [record, revokedAt] = await Promise.all([this.read(accountId, deviceHash(deviceId)), this.revocations.revokedAt(accountId)]);
    return record !== null && this.live(record, revokedAt) && (withinDays === undefined || this.clock.now() - record.createdAt < withinDays * DAY_MS);
  }

  /** The device skips the second factor no more (the user revoked it). */
  async forget(accountId: string, deviceId: string): Promise<void> {
    const hash = deviceHash(deviceId);
    await Promise.all([this.store.delete(recordKey(accountId, hash)), this.store.removeMember(indexKey(accountId), hash)]);
  }

  /** The account's remembered devices that still skip the second factor, most recent first. */
  async list(accountId: string): Promise<RememberedDevice[]> {
    const [hashes, revokedAt] = await Promise.all([this.store.members(indexKey(accountId), this.clock.now()), this.revocations.revokedAt(accountId)]);
    const records = await Promise.all(hashes.map(async (hash) => ({ hash, record: await this.read(accountId, hash) })));
    return records
      .flatMap(({ hash, record }) => (record && this.live(record, revokedAt) ? [{ deviceHash: hash, ...record }] : []))
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  private live(record: Stored, revokedAt: number): boolean {
    return record.createdAt > revokedAt && this.clock.now() < record.endsAt;
  }

  private async read(accountId: string, hash: string): Promise<Stored | null> {
    const raw = await this.store.get(recordKey(accountId, hash));
    return raw === null ? null : (JSON.parse(raw) as Stored);
  }
}

/** The device id is 16 random bytes, so a plain SHA-256 cannot be reversed by guessing. */
export function deviceHash(deviceId: string): string {
  return createHash("sha256").update(deviceId).digest("base64url");
}

const recordKey = (accountId: string, hash: string) => `remembered:${accountId}:${hash}`;
const indexKey = (accountId: string) => `remembered-index:${accountId}`;
