// Garbage from clients is the client's fault on every surface: unstorable strings, duplicate JSON keys,
// malformed protobuf and compression, over-limit bodies on kept-alive connections, absurd timeouts.
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import http2 from "node:http2";
import net from "node:net";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorDetailSchema } from "../gen/signin/session/v1/error_pb.js";
import { SessionService } from "../gen/signin/session/v1/session_pb.js";
import { AppUserService } from "../gen/signin/appuser/v1/appuser_pb.js";
import { APP_TOKENS, COSYNC_APPS, md5, WILE } from "./support/cosync.js";
import { duplicateKeyPath } from "../src/transport/legacy/duplicate-keys.js";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

const errorOf = (p: Promise<unknown>) => p.then(() => null, (e) => ConnectError.from(e));

describe("garbage in, never 5xx out", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ MAX_BODY_BYTES: "65536" }, [COYOTE, WILE], COSYNC_APPS);
  });
  afterAll(() => svc?.close());

  describe("unstorable strings (NUL, lone surrogates, over the cap) are INVALID_REQUEST naming the field", () => {
    const nul = "coyote\u0000";
    const surrogate = "coyote\ud800";

    it("Yeep REST: 400 in the envelope with the field's path", async () => {
      for (const user of [nul, surrogate]) {
        const res = await post(`${svc.url}/api/session.setCookie`, { user, password: "x" });
        expect(res.status).toBe(200);
        expect(res.json).toMatchObject({ ok: false, error: { code: 400 } });
        expect(res.json.error.details.map((d: { path: string[] }) => d.path.join("."))).toContain("user");
      }
      const nested = await post(`${svc.url}/api/session.setCookie`, {
        user: "coyote",
        password: COYOTE.password,
        secondaryAuthFactor: { type: "TOTP", token: "1\u00002" },
      });
      expect(nested.json.error.details.map((d: { path: string[] }) => d.path.join("."))).toContain("secondaryAuthFactor.token");
      const info = await post(`${svc.url}/api/user.info`, { id: "a\u0000" });
      expect(info.json.ok).toBe(false);
      expect(info.json.error.code).not.toBe(500);
    });

    it("Cosync REST: 602 naming the field, never 500", async () => {
      const res = await post(`${svc.url}/api/appuser/login`, { handle: `wile@acme.com\u0000`, password: md5(WILE.password) }, { "app-token": APP_TOKENS.acme });
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ code: 602 });
      expect(res.text).toContain("handle");
    });

    it.each(["connect", "grpc", "grpc-web"] as const)("%s: invalid_argument with a field violation", async (protocol) => {
      const baseUrl = svc.url;
      const transport =
        protocol === "connect" ? createConnectTransport({ baseUrl, httpVersion: "1.1" }) : protocol === "grpc" ? createGrpcTransport({ baseUrl }) : createGrpcWebTransport({ baseUrl, httpVersion: "1.1" });
      const err = await errorOf(createClient(SessionService, transport).setCookie({ user: nul, password: "x" }));
      expect(err?.code).toBe(Code.InvalidArgument);
      expect(err?.findDetails(ErrorDetailSchema)[0]?.fieldViolations.map((v) => v.field)).toContain("user");
      const long = await errorOf(createClient(AppUserService, transport).login({ handle: "h".repeat(20000), password: "x" }, { headers: { "app-token": APP_TOKENS.acme } }));
      expect(long?.code).toBe(Code.InvalidArgument);
    });
  });

  describe("duplicate keys in legacy bodies are refused (a proxy reading the first must not disagree with us)", () => {
    const right = JSON.stringify(COYOTE.password);
    it("Yeep: the last password no longer wins; the duplicate is named, at any depth, escapes decoded", async () => {
      const control = await post(`${svc.url}/api/session.setCookie`, `{"user":"coyote","password":${right}}`);
      expect(control.json.ok).toBe(true);
      const res = await post(`${svc.url}/api/session.setCookie`, `{"user":"coyote","password":"wrong","password":${right}}`);
      expect(res.json).toMatchObject({ ok: false, error: { code: 400, message: "Invalid request body" } });
      expect(res.json.error.details).toStrictEqual([{ message: 'Duplicate key "password"', path: ["password"] }]);
      const escaped = await post(`${svc.url}/api/session.setCookie`, `{"user":"coyote","password":"wrong","pass\\u0077ord":${right}}`);
      expect(escaped.json.error.details[0].path).toStrictEqual(["password"]);
      const nested = await post(`${svc.url}/api/session.setCookie`, `{"user":"coyote","password":${right},"secondaryAuthFactor":{"type":"TOTP","token":"1","token":"2"}}`);
      expect(nested.json.error.details[0].path).toStrictEqual(["secondaryAuthFactor", "token"]);
    });

    it("Cosync: JSON and form bodies with a repeated field answer 602", async () => {
      const headers = { "app-token": APP_TOKENS.acme };
      const json = await post(`${svc.url}/api/appuser/login`, `{"handle":"wile@acme.com","password":"x","password":"${md5(WILE.password)}"}`, headers);
      expect(json.status).toBe(400);
      expect(json.json.code).toBe(602);
      const form = await fetch(`${svc.url}/api/appuser/login`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
        body: `handle=wile%40acme.com&password=x&password=${md5(WILE.password)}`,
      });
      expect(form.status).toBe(400);
      expect(((await form.json()) as { code: number }).code).toBe(602);
    });

    it("the scanner: same key in different objects is fine; strings holding braces and quotes are skipped", () => {
      expect(duplicateKeyPath('{"a":{"a":1},"b":[{"a":1},{"a":2}]}')).toBeNull();
      expect(duplicateKeyPath('{"b":[{"a":1},{"a":1,"a":2}]}')).toStrictEqual(["b", "1", "a"]);
      expect(duplicateKeyPath('{"x":"}{\\",\\"x","y":["x","x"]}')).toBeNull();
      expect(duplicateKeyPath('{"x":"}{\\"","x":1}')).toStrictEqual(["x"]);
    });
  });

  describe("a malformed message or body encoding is the client's fault on Connect, gRPC and gRPC-Web", () => {
    const path = `/${SessionService.typeName}/SetCookie`;
    const garbage = [
      Buffer.from([0x0a, 0x05, 0x61]), // a length past the end: premature EOF
      Buffer.from([0x0c]), // an end-group tag that was never opened
      Buffer.from([0x0a, 0x80]), // a truncated varint
      Buffer.alloc(300, 0x7b), // 300 nested start-group tags: the recursion limit
    ];
    const envelope = (flags: number, data: Buffer) => {
      const head = Buffer.alloc(5);
      head[0] = flags;
      head.writeUInt32BE(data.length, 1);
      return Buffer.concat([head, data]);
    };

    it("Connect application/proto garbage: 400 invalid_argument with a short message", async () => {
      for (const body of garbage) {
        const res = await fetch(`${svc.url}${path}`, { method: "POST", headers: { "content-type": "application/proto" }, body });
        const json = (await res.json()) as { code: string; message: string };
        expect(res.status, String(body.toString("hex").slice(0, 20))).toBe(400);
        expect(json.code).toBe("invalid_argument");
        expect(json.message.length).toBeLessThan(200);
      }
    });

    it("Connect JSON: a gzip body that does not decompress is invalid_argument; deflate is unimplemented naming the accepted encodings", async () => {
      const truncated = gzipSync(JSON.stringify({ user: "coyote", password: "x" })).subarray(0, 12);
      const bad = await fetch(`${svc.url}${path}`, { method: "POST", headers: { "content-type": "application/json", "content-encoding": "gzip" }, body: truncated });
      expect(bad.status).toBe(400);
      const badJson = (await bad.json()) as { code: string; message: string };
      expect(badJson.code).toBe("invalid_argument");
      expect(badJson.message).toContain("gzip, br");
      const deflate = await fetch(`${svc.url}${path}`, { method: "POST", headers: { "content-type": "application/json", "content-encoding": "deflate" }, body: "{}" });
      const deflateJson = (await deflate.json()) as { code: string; message: string };
      expect(deflateJson.code).toBe("unimplemented");
      expect(deflateJson.message).toMatch(/supported encodings are gzip,br|gzip, br/);
    });

    const grpcWebStatus = async (body: Buffer, headers: Record<string, string> = {}) => {
      const res = await fetch(`${svc.url}${path}`, { method: "POST", headers: { "content-type": "application/grpc-web+proto", ...headers }, body: new Uint8Array(body) });
      const bytes = Buffer.from(await res.arrayBuffer());
      const trailer = bytes.subarray(bytes.lastIndexOf(0x80) + 5).toString("latin1");
      return { http: res.status, status: /grpc-status: ?(\d+)/.exec(trailer)?.[1] ?? res.headers.get("grpc-status"), trailer };
    };

    it("gRPC-Web: garbage messages and a compressed envelope it cannot decompress answer grpc-status 3", async () => {
      for (const body of garbage) expect((await grpcWebStatus(envelope(0, body))).status).toBe("3");
      expect((await grpcWebStatus(envelope(1, Buffer.from("not compressed")))).status).toBe("3");
      const gz = await grpcWebStatus(envelope(1, Buffer.from("not gzip at all")), { "grpc-encoding": "gzip" });
      expect(gz.status).toBe("3");
    });

    it("gRPC over HTTP/2: garbage messages answer grpc-status 3", async () => {
      const session = http2.connect(svc.url);
      try {
        for (const body of garbage) {
          const status = await new Promise<string | undefined>((resolve, reject) => {
            const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
            let status: string | undefined;
            stream.on("response", (h) => (status ??= h["grpc-status"] as string | undefined));
            stream.on("trailers", (h) => (status = h["grpc-status"] as string));
            stream.on("data", () => {});
            stream.on("end", () => resolve(status));
            stream.on("error", reject);
            stream.end(envelope(0, body));
          });
          expect(status).toBe("3");
        }
      } finally {
        session.close();
      }
    });
  });

  describe("a refused over-limit body closes its keep-alive connection (Connect and gRPC-Web, as the legacy paths do)", () => {
    // One HTTP/1.1 request on a raw socket: the answer's head, and whether the server then closed the socket.
    const refused = (path: string, contentType: string, chunked: boolean) =>
      new Promise<{ head: string; closed: boolean }>((resolve, reject) => {
        const { port } = new URL(svc.url);
        const socket = net.connect(Number(port), "127.0.0.1");
        let received = "";
        const length = chunked ? "transfer-encoding: chunked" : "content-length: 200000";
        socket.on("connect", () => {
          socket.write(`POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: keep-alive\r\ncontent-type: ${contentType}\r\n${length}\r\n\r\n`);
          const part = Buffer.alloc(70000, 0x61);
          socket.write(chunked ? Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from("\r\n")]) : part);
        });
        socket.on("data", (c) => (received += c.toString("latin1")));
        socket.on("error", () => {}); // a reset after the answer is a close too
        socket.on("close", () => (received ? resolve({ head: received.split("\r\n\r\n")[0]!, closed: true }) : reject(new Error("no answer"))));
      });

    it.each([
      ["Connect", "application/json", false],
      ["Connect", "application/json", true],
      ["gRPC-Web", "application/grpc-web+proto", false],
      ["gRPC-Web", "application/grpc-web+proto", true],
    ] as const)("%s %s (chunked: %s): refused, then the connection closes; a fresh one works", async (_name, contentType, chunked) => {
      const answer = await refused(`/${SessionService.typeName}/SetCookie`, contentType, chunked);
      expect(answer.head).toMatch(/^HTTP\/1\.1 (200|413|429)/);
      expect(answer.head.toLowerCase()).toContain("connection: close");
      expect(answer.closed).toBe(true);
      const next = await post(`${svc.url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password });
      expect(next.json.ok).toBe(true);
    });
  });

  it("a huge deadline header (grpc-timeout 99999999H, connect-timeout-ms 9999999999) is clamped: answered, no TimeoutOverflowWarning", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    try {
      const path = `${svc.url}/${SessionService.typeName}/SetCookie`;
      const credentials = { user: "coyote", password: COYOTE.password };
      const connect = await fetch(path, { method: "POST", headers: { "content-type": "application/json", "connect-timeout-ms": "9999999999" }, body: JSON.stringify(credentials) });
      expect(connect.status).toBe(200);
      const message = Buffer.from(toBinary(SessionService.method.setCookie.input, create(SessionService.method.setCookie.input, credentials)));
      const head = Buffer.alloc(5);
      head.writeUInt32BE(message.length, 1);
      const web = await fetch(path, { method: "POST", headers: { "content-type": "application/grpc-web+proto", "grpc-timeout": "99999999H" }, body: new Uint8Array(Buffer.concat([head, message])) });
      expect(Buffer.from(await web.arrayBuffer()).toString("latin1")).toMatch(/grpc-status: ?0/);
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      expect(warnings.filter((name) => name === "TimeoutOverflowWarning")).toStrictEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
