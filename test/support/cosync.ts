// Fixture for the Cosync-style tests: apps of every kind, their users, and a local HTTP
// receiver standing in for the SMS provider behind SMS_WEBHOOK_URL.
import { createHash, createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { TOTP_SECRET } from "./service.js";

export const md5 = (s: string) => createHash("md5").update(s).digest("hex");

export const APP_TOKENS = {
  acme: "acme-app-token-0123456789abcdef",
  phone: "phone-app-token-0123456789abcdef",
  suspended: "suspended-token-0123456789abcdef",
  deleted: "deleted-app-token-0123456789abcd",
};

export const COSYNC_APPS = [
  {
    id: "acme",
    name: "Acme",
    appToken: APP_TOKENS.acme,
    status: "active",
    twoFactor: "google",
    realmAppId: "acme-realm",
    jwtExpirationHours: 24,
    passwordPrehash: "md5",
    metadataFields: [{ path: "user_data.role", fieldName: "role", required: true }],
  },
  { id: "phoneco", appToken: APP_TOKENS.phone, twoFactor: "phone", realmAppId: "phone-realm", passwordPrehash: "md5" },
  { id: "paused", appToken: APP_TOKENS.suspended, status: "suspended", passwordPrehash: "md5" },
  { id: "gone", appToken: APP_TOKENS.deleted, status: "deleted", passwordPrehash: "md5" },
];

export const WILE = { app: "acme", handle: "wile@acme.com", password: "super-genius", metadata: { user_data: { role: "admin", notes: "private" } } };
export const RR = {
  app: "acme",
  handle: "roadrunner@acme.com",
  password: "meep-meep",
  metadata: { user_data: { role: "bird" } },
  totpSecret: TOTP_SECRET,
  googleTwoFactor: true,
};
export const COSYNC_USERS = [
  WILE,
  RR,
  { app: "acme", handle: "nometa@acme.com", password: "no-metadata", metadata: {} },
  { app: "acme", handle: "banned@acme.com", password: "banned-pw", status: "suspended", metadata: { user_data: { role: "x" } } },
  { app: "phoneco", handle: "caller@phone.co", password: "ring-ring", phone: "+15555550100", phoneVerified: true, phoneTwoFactor: true },
  { app: "phoneco", handle: "fresh@phone.co", password: "fresh-pw" },
  { app: "phoneco", handle: "plain@phone.co", password: "plain-pw" },
  { app: "paused", handle: "p@paused.io", password: "pw-paused" },
  { app: "gone", handle: "g@gone.io", password: "pw-gone-away" },
];

export interface SmsRequest {
  body: { to: string; code: string; appId: string; purpose: string };
  raw: string;
  timestamp: string;
  signature: string;
}

/** Records every webhook call; `failNext` makes the next calls answer HTTP 502. */
export class SmsReceiver {
  readonly received: SmsRequest[] = [];
  failNext = 0;
  private server?: Server;
  url = "";

  constructor(readonly secret = "webhook-secret-for-tests") {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let raw = "";
      req.on("data", (c) => (raw += c));
      req.on("end", () => {
        if (this.failNext > 0) {
          this.failNext--;
          res.writeHead(502).end();
          return;
        }
        this.received.push({
          body: JSON.parse(raw),
          raw,
          timestamp: String(req.headers["x-signin-timestamp"]),
          signature: String(req.headers["x-signin-signature"]),
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/sms`;
    return this;
  }

  last(): SmsRequest {
    const last = this.received[this.received.length - 1];
    if (!last) throw new Error("no SMS was sent");
    return last;
  }

  validSignature(r: SmsRequest): boolean {
    return r.signature === `sha256=${createHmac("sha256", this.secret).update(`${r.timestamp}.${r.raw}`).digest("hex")}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** A Cosync-style request the way the official JS client sends it. */
export async function cosync(baseUrl: string, method: string, body: Record<string, unknown> | null, headers: Record<string, string>) {
  const res = await fetch(`${baseUrl}/api/appuser/${method}`, {
    method: body === null ? "GET" : "POST",
    headers: { accept: "application/json", ...(body === null ? {} : { "content-type": "application/json" }), ...headers },
    body: body === null ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: JSON.parse(text) as any, text };
}
