// One port, every protocol: generated Connect clients over HTTP/1.1 and h2c, gRPC, gRPC-Web,
// TLS with ALPN, and the HTTP/2 preface sniffing under awkward byte arrival.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import http2 from "node:http2";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import type { TLSSocket } from "node:tls";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorDetailSchema } from "../gen/signin/session/v1/error_pb.js";
import { SessionService } from "../gen/signin/session/v1/session_pb.js";
import { UserService } from "../gen/signin/session/v1/user_pb.js";
import { COYOTE, ROADRUNNER, startTestService, type TestService } from "./support/service.js";

const credentials = { user: COYOTE.email, password: COYOTE.password };
const errorOf = (p: Promise<unknown>) => p.then(() => null, (e) => ConnectError.from(e));

describe("Connect, gRPC and gRPC-Web on the cleartext port", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(() => svc?.close());

  it.each(["1.1", "2"] as const)("generated Connect client over HTTP/%s: SetCookie sets the cookie, IssueToken + Info", async (httpVersion) => {
    const transport = createConnectTransport({ baseUrl: svc.url, httpVersion });
    const session = createClient(SessionService, transport);
    let setCookie: string | null = null;
    const res = await session.setCookie(credentials, { onHeader: (h) => (setCookie = h.get("set-cookie")) });
    expect(res.user?.id).toBe(COYOTE.id);
    expect(setCookie).toMatch(/^session=.+; Path=\/;.*HttpOnly; SameSite=Lax/);

    const issued = await session.issueToken(credentials);
    expect(issued.token.split(".")).toHaveLength(3);
    expect(Number(issued.expiresAt!.seconds) * 1000).toBeGreaterThan(svc.clock.now());
    const info = await createClient(UserService, transport).info({}, { headers: { authorization: `Bearer ${issued.token}` } });
    expect(info.user).toMatchObject({ username: "coyote", permissions: ["user.read"] });
  });

  it("gRPC: IssueToken and Info; errors carry the code and an ErrorDetail", async () => {
    const transport = createGrpcTransport({ baseUrl: svc.url });
    const session = createClient(SessionService, transport);
    const { token } = await session.issueToken(credentials);
    const info = await createClient(UserService, transport).info({}, { headers: { authorization: `Bearer ${token}` } });
    expect(info.user?.id).toBe(COYOTE.id);

    const wrong = await errorOf(session.issueToken({ ...credentials, password: "wrong" }));
    expect(wrong?.code).toBe(Code.Unauthenticated);
    expect(wrong?.findDetails(ErrorDetailSchema)[0]?.reason).toBe("INVALID_CREDENTIALS");

    const mfa = await errorOf(session.issueToken({ user: ROADRUNNER.username, password: ROADRUNNER.password }));
    expect(mfa?.code).toBe(Code.Unauthenticated);
    expect(mfa?.findDetails(ErrorDetailSchema)[0]).toMatchObject({
      reason: "SECOND_FACTOR_REQUIRED",
      applicableAuthFactorTypes: ["TOTP"],
    });
  });

  it("gRPC-Web over HTTP/1.1: IssueToken", async () => {
    const session = createClient(SessionService, createGrpcWebTransport({ baseUrl: svc.url, httpVersion: "1.1" }));
    expect((await session.issueToken(credentials)).token).toBeTruthy();
  });

  it("bad input through Connect: invalid_argument naming the fields", async () => {
    const session = createClient(SessionService, createConnectTransport({ baseUrl: svc.url, httpVersion: "1.1" }));
    const err = await errorOf(session.setCookie({ user: "", password: "x" }));
    expect(err?.code).toBe(Code.InvalidArgument);
    const detail = err?.findDetails(ErrorDetailSchema)[0];
    expect(detail?.reason).toBe("INVALID_REQUEST");
    expect(detail?.fieldViolations.map((v) => v.field)).toStrictEqual(["user"]);
  });

  it("an HTTP/1.1 request arriving a few bytes at a time is answered", async () => {
    const body = JSON.stringify(credentials);
    const raw =
      `POST /api/session.setCookie HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
    const { port } = new URL(svc.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), "127.0.0.1");
      let text = "";
      socket.on("data", (d) => (text += d));
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
      socket.on("connect", async () => {
        for (let i = 0; i < raw.length; i += 3) {
          socket.write(raw.slice(i, i + 3));
          await new Promise((r) => setImmediate(r)); // separate writes, not a time wait
        }
      });
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(answer).toContain(`{"ok":true,"user":{"id":"${COYOTE.id}"}}`);
  });

  it("an h2c connection carries several requests", async () => {
    const session = http2.connect(svc.url);
    try {
      const ask = () =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = session.request({ ":method": "POST", ":path": "/api/session.issueToken", "content-type": "application/json" });
          let status = 0;
          let body = "";
          req.on("response", (h) => (status = Number(h[":status"])));
          req.on("data", (d) => (body += d));
          req.on("end", () => resolve({ status, body }));
          req.on("error", reject);
          req.end(JSON.stringify(credentials));
        });
      const answers = await Promise.all([ask(), ask(), ask()]);
      for (const a of answers) {
        expect(a.status).toBe(200);
        expect(JSON.parse(a.body).ok).toBe(true);
      }
    } finally {
      session.close();
    }
  });
});

describe("TLS with ALPN", () => {
  let svc: TestService;
  let ca: Buffer;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "signin-tls-"));
    const [cert, key] = [join(dir, "cert.pem"), join(dir, "key.pem")];
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-days", "1", "-keyout", key, "-out", cert,
    ], { stdio: "ignore" });
    ca = readFileSync(cert);
    svc = await startTestService({ TLS_CERT: cert, TLS_KEY: key });
  });
  afterAll(() => svc?.close());

  it("serves https with h2 and http/1.1 on the same port", async () => {
    expect(svc.url).toMatch(/^https:\/\//);
    const body = JSON.stringify(credentials);

    const h1 = await new Promise<{ status: number; alpn: string | false | null; body: string }>((resolve, reject) => {
      const req = https.request(`${svc.url}/api/session.setCookie`, { method: "POST", ca, ALPNProtocols: ["http/1.1"], headers: { "content-type": "application/json" } } as https.RequestOptions, (res) => {
        let text = "";
        const alpn = (res.socket as TLSSocket).alpnProtocol;
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode!, alpn, body: text }));
      });
      req.on("error", reject);
      req.end(body);
    });
    expect(h1.status).toBe(200);
    expect(h1.alpn).toBe("http/1.1");
    expect(JSON.parse(h1.body)).toStrictEqual({ ok: true, user: { id: COYOTE.id } });

    const session = http2.connect(svc.url, { ca });
    try {
      const h2 = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = session.request({ ":method": "POST", ":path": "/api/session.setCookie", "content-type": "application/json" });
        let status = 0;
        let text = "";
        req.on("response", (h) => (status = Number(h[":status"])));
        req.on("data", (d) => (text += d));
        req.on("end", () => resolve({ status, body: text }));
        req.on("error", reject);
        req.end(body);
      });
      expect(h2.status).toBe(200);
      expect(JSON.parse(h2.body).ok).toBe(true);
      expect(session.alpnProtocol).toBe("h2");
    } finally {
      session.close();
    }
  });

  it("Connect over https/2 and gRPC over TLS", async () => {
    for (const transport of [
      createConnectTransport({ baseUrl: svc.url, httpVersion: "2", nodeOptions: { ca } }),
      createGrpcTransport({ baseUrl: svc.url, nodeOptions: { ca } }),
    ]) {
      expect((await createClient(SessionService, transport).issueToken(credentials)).token).toBeTruthy();
    }
  });
});
