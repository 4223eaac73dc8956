// New devices (issue 16), end to end: a sign-in that presents no device credential for the account
// is audited `sign_in.new_device` and POSTed to NOTIFY_WEBHOOK_URL (a local receiver checks the
// HMAC signature and the body); one presenting the device cookie is not; a receiver that never
// answers or fails neither delays nor fails the sign-in. And the settings' start-up errors.
import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

const SECRET = "notify-secret-for-tests";

interface Received {
  raw: string;
  body: Record<string, string>;
  timestamp: string;
  signature: string;
}

/** A webhook receiver: `answer` decides each response (or leaves it hanging); `next()` resolves with the next request. */
class Receiver {
  readonly received: Received[] = [];
  private waiting: Array<(r: Received) => void> = [];
  private server?: Server;
  url = "";

  constructor(private readonly answer: (res: ServerResponse) => void = (res) => res.writeHead(204).end()) {}

  async start(): Promise<this> {
    this.server = createServer((req: IncomingMessage, res) => {
      let raw = "";
      req.on("data", (c) => (raw += c));
      req.on("end", () => {
        const r = { raw, body: JSON.parse(raw), timestamp: String(req.headers["x-signin-timestamp"]), signature: String(req.headers["x-signin-signature"]) };
        this.received.push(r);
        this.waiting.shift()?.(r);
        this.answer(res);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/new-device`;
    return this;
  }

  next(): Promise<Received> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  close(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
async function setUp(answer?: (res: ServerResponse) => void) {
  const receiver = await new Receiver(answer).start();
  cleanup.push(() => receiver.close());
  const svc = await startTestService({ NOTIFY_WEBHOOK_URL: receiver.url, NOTIFY_WEBHOOK_SECRET: SECRET, TRUSTED_PROXIES: "loopback" });
  cleanup.push(() => svc.close());
  const signIn = (userAgent: string, cookie?: string) =>
    post(`${svc.url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password }, { "user-agent": userAgent, "x-forwarded-for": "203.0.113.7", ...(cookie ? { cookie } : {}) });
  return { receiver, svc, signIn };
}

const deviceCookie = (headers: Headers) => headers.getSetCookie().find((c) => c.startsWith("device="))!.split(";")[0]!;

describe("sign-ins from new devices", () => {
  it("are POSTed to NOTIFY_WEBHOOK_URL, signed, and audited; a sign-in presenting the device cookie is neither", async () => {
    const { receiver, svc, signIn } = await setUp();
    const arrived = receiver.next();
    const first = await signIn("Laptop/1.0");
    expect(first.json.ok).toBe(true);
    const r = await arrived;
    expect(r.signature).toBe(`sha256=${createHmac("sha256", SECRET).update(`${r.timestamp}.${r.raw}`).digest("hex")}`);
    expect(Number(r.timestamp)).toBe(Math.floor(svc.clock.now() / 1000));
    expect(r.body).toStrictEqual({
      event: "sign_in.new_device",
      appId: "default",
      accountId: COYOTE.id,
      ip: "203.0.113.7",
      userAgent: "Laptop/1.0",
      at: new Date(svc.clock.now()).toISOString(),
    });

    // The known device first, then a new one: only the new one arrives.
    const cookie = deviceCookie(first.headers);
    const next = receiver.next();
    expect((await signIn("Laptop/1.0", cookie)).json.ok).toBe(true);
    expect((await signIn("Phone/2.0")).json.ok).toBe(true);
    expect((await next).body.userAgent).toBe("Phone/2.0");
    expect(receiver.received).toHaveLength(2);

    const audited = svc.logs.filter((l) => l.audit).map((l) => [l.event, l.userAgent]);
    expect(audited).toStrictEqual([
      ["sign_in.success", "Laptop/1.0"],
      ["sign_in.new_device", "Laptop/1.0"],
      ["sign_in.success", "Laptop/1.0"],
      ["sign_in.success", "Phone/2.0"],
      ["sign_in.new_device", "Phone/2.0"],
    ]);
    // The credential the caller presented is never written to the audit trail.
    expect(JSON.stringify(svc.logs)).not.toContain(cookie.slice("device=".length));
  });

  it("a receiver that never answers does not delay the sign-in", async () => {
    const { receiver, signIn } = await setUp(() => {}); // holds every request open
    const arrived = receiver.next();
    expect((await signIn("Laptop/1.0")).json.ok).toBe(true);
    await arrived; // the request went out, still unanswered, after the sign-in answered
  });

  it("a receiver that fails does not fail the sign-in; the failure is logged", async () => {
    const { receiver, svc, signIn } = await setUp((res) => res.writeHead(500).end());
    const arrived = receiver.next();
    expect((await signIn("Laptop/1.0")).json.ok).toBe(true);
    await arrived;
    const warned = () => svc.logs.some((l) => l.level === "warn" && l.msg === "new-device webhook failed" && l.err === "HTTP 500");
    for (let i = 0; i < 1000 && !warned(); i++) await new Promise((r) => setImmediate(r));
    expect(warned()).toBe(true);
  });
});

describe("NOTIFY_WEBHOOK_URL and NOTIFY_WEBHOOK_SECRET", () => {
  it.each([
    [{ NOTIFY_WEBHOOK_URL: "https://hooks.example.com/signin" }, /^NOTIFY_WEBHOOK_SECRET is required with NOTIFY_WEBHOOK_URL/],
    [{ NOTIFY_WEBHOOK_SECRET: SECRET }, /^NOTIFY_WEBHOOK_URL is required with NOTIFY_WEBHOOK_SECRET/],
    [{ NOTIFY_WEBHOOK_URL: "ftp://hooks.example.com", NOTIFY_WEBHOOK_SECRET: SECRET }, /^NOTIFY_WEBHOOK_URL must be an http\(s\) URL/],
    [{ NOTIFY_WEBHOOK_URL: "hooks.example.com", NOTIFY_WEBHOOK_SECRET: SECRET }, /^NOTIFY_WEBHOOK_URL is not a URL/],
  ])("%o: a start-up error naming the setting", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("both or neither", () => {
    expect(loadConfig({}).notify).toBeNull();
    expect(loadConfig({ NOTIFY_WEBHOOK_URL: "https://hooks.example.com/signin", NOTIFY_WEBHOOK_SECRET: SECRET }).notify).toStrictEqual({
      webhookUrl: "https://hooks.example.com/signin",
      webhookSecret: SECRET,
    });
  });
});
