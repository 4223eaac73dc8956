// A device credential (OWASP "device cookie"): handed to a browser (the `device` cookie) or an
// API caller (`deviceToken`) after a successful sign-in, and presented at the next ones. It names
// a device id and the account, app and login it signed in as, MAC'd with a server secret, so the
// service can tell a device that already proved the password from anyone else without a lookup.
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock } from "../clock.js";

export interface DeviceCredential {
  /** Random, 16 bytes base64url: names the device across its sign-ins. */
  deviceId: string;
  accountId: string;
  appId: string;
  /** The login it signed in with, normalised (the per-account limits' key). */
  login: string;
  /** Issue time (ms). */
  issuedAt: number;
}

/** A device credential lives a year from its last sign-in (browsers cap cookies at 400 days). */
export const DEVICE_CREDENTIAL_TTL_MS = 365 * 24 * 3600 * 1000;
/** Longest accepted credential: presented values are checked before any work. */
export const MAX_DEVICE_TOKEN_LENGTH = 1024;

const VERSION = "dv1";

/** A new device's id: 16 random bytes, base64url. */
export const newDeviceId = (): string => randomBytes(16).toString("base64url");

export class DeviceCredentials {
  private readonly key: Buffer;

  /** `secret`: a server secret (see core/otp/code-secret.ts); a key for this purpose is derived from it. */
  constructor(
    secret: Buffer,
    private readonly clock: Clock,
  ) {
    this.key = Buffer.from(hkdfSync("sha256", secret, "signin", "device-credential", 32));
  }

  /** A credential for this sign-in: the device keeps its id when it presented one (`deviceId`). */
  issue(signedIn: Omit<DeviceCredential, "deviceId" | "issuedAt">, deviceId?: string): string {
    const body: DeviceCredential = { deviceId: deviceId ?? newDeviceId(), ...signedIn, issuedAt: this.clock.now() };
    const payload = Buffer.from(JSON.stringify(body)).toString("base64url");
    return `${VERSION}.${payload}.${this.mac(payload)}`;
  }

  /** The credential behind a presented value: genuine (MAC, constant-time) and unexpired; else null. */
  open(token: string | undefined): DeviceCredential | null {
    if (!token || token.length > MAX_DEVICE_TOKEN_LENGTH) return null;
    const [version, payload, mac, ...rest] = token.split(".");
    if (version !== VERSION || !payload || !mac || rest.length > 0) return null;
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    let c: DeviceCredential;
    try {
      c = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as DeviceCredential;
    } catch {
      return null;
    }
    if (typeof c.issuedAt !== "number" || this.clock.now() - c.issuedAt >= DEVICE_CREDENTIAL_TTL_MS) return null;
    return c;
  }

  private mac(payload: string): string {
    return createHmac("sha256", this.key).update(`${VERSION}.${payload}`).digest("base64url");
  }
}
