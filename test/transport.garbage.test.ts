// Garbage from clients is the client's fault on every surface: unstorable strings, duplicate JSON keys,
// malformed protobuf and compression, over-limit bodies on kept-alive connections, absurd timeouts.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
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
});
