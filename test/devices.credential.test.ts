// The device credential alone (core, no server): genuine and unexpired, or nothing.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DEVICE_CREDENTIAL_TTL_MS, DeviceCredentials } from "../src/core/devices/device-credential.js";
import { ManualClock } from "../src/core/clock.js";

const who = { accountId: "507f191e810c19729de860ea", appId: "default", login: "coyote" };

describe("device credential", () => {
  it("opens what it issued, keeps a presented device id, and expires a year after issue", () => {
    const clock = new ManualClock(1_000_000);
    const devices = new DeviceCredentials(randomBytes(32), clock);
    const first = devices.open(devices.issue(who))!;
    expect(first).toMatchObject({ ...who, issuedAt: 1_000_000 });
    expect(first.deviceId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const again = devices.issue(who, first.deviceId);
    expect(devices.open(again)?.deviceId).toBe(first.deviceId);
    clock.advance(DEVICE_CREDENTIAL_TTL_MS - 1);
    expect(devices.open(again)).not.toBeNull();
    clock.advance(1);
    expect(devices.open(again)).toBeNull();
  });

  it("refuses a forged, altered or foreign credential", () => {
    const clock = new ManualClock(0);
    const devices = new DeviceCredentials(randomBytes(32), clock);
    const token = devices.issue(who);
    const [v, payload, mac] = token.split(".");
    const altered = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, "base64url").toString()), accountId: "000000000000000000000000" })).toString("base64url");
    expect(devices.open(`${v}.${altered}.${mac}`)).toBeNull();
    expect(devices.open(new DeviceCredentials(randomBytes(32), clock).issue(who))).toBeNull();
    for (const bad of ["", "dv1", `${token}.x`, `dv2.${payload}.${mac}`, `${v}.${payload}.${mac!.slice(1)}`, "x".repeat(5000)]) expect(devices.open(bad)).toBeNull();
  });
});
