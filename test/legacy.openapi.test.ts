// GET /api/openapi.json documents both legacy surfaces; real responses of each are validated against it
// (ajv), and requests with unknown fields against its request schemas, so it cannot drift from the service.
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_TOKENS, COSYNC_APPS, COSYNC_USERS, cosync, md5, RR, WILE } from "./support/cosync.js";
import { LEGACY_ROUTES } from "../src/transport/legacy/route-table.js";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

describe("/api/openapi.json", () => {
  let svc: TestService;
  let doc: any;
  let ajv: Ajv;
  beforeAll(async () => {
    svc = await startTestService({}, [...COSYNC_USERS, COYOTE], COSYNC_APPS);
    doc = await (await fetch(`${svc.url}/api/openapi.json`)).json();
    ajv = new Ajv({ strict: false, validateFormats: false, validateSchema: false });
    ajv.addSchema(doc, "openapi");
  });
  afterAll(() => svc?.close());

  const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
  /** Validates a body against the documented response schema of a path, method and status. */
  const check = (path: string, method: string, status: string, body: unknown) => {
    const validate = ajv.compile({ $ref: `openapi#/${pointer("paths", path, method, "responses", status, "content", "application/json", "schema")}` });
    const valid = validate(body);
    expect(validate.errors ?? [], `${method} ${path} ${status}: ${JSON.stringify(body)}`).toStrictEqual([]);
    expect(valid).toBe(true);
  };

  /** Whether a request body is valid under the documented request schema of a path (POST, JSON). */
  const accepts = (path: string, body: unknown) =>
    ajv.compile({ $ref: `openapi#/${pointer("paths", path, "post", "requestBody", "content", "application/json", "schema")}` })(body) as boolean;

  it("documents both surfaces, each path with its operation", () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/session.setCookie", "/api/user.info", "/api/appuser/login", "/api/appuser/loginComplete", "/api/appuser/getUser"]));
    expect(doc.paths["/api/appuser/login"].post.parameters[0]).toMatchObject({ name: "app-token", in: "header" });
    expect(doc.paths["/api/appuser/getUser"].get.parameters[0]).toMatchObject({ name: "access-token", in: "header" });
    expect(Object.keys(doc.paths["/api/appuser/login"].post.requestBody.content)).toStrictEqual(["application/json", "application/x-www-form-urlencoded"]);
  });

  it("Yeep-style answers, successes and errors, match the document", async () => {
    const ok = await post(`${svc.url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password });
    check("/api/session.setCookie", "post", "200", ok.json);
    check("/api/session.setCookie", "post", "200", (await post(`${svc.url}/api/session.setCookie`, { user: "coyote", password: "x" })).json);
    check("/api/session.setCookie", "post", "200", (await post(`${svc.url}/api/session.setCookie`, {})).json);
    const issued = (await post(`${svc.url}/api/session.issueToken`, { user: "coyote", password: COYOTE.password })).json;
    check("/api/session.issueToken", "post", "200", issued);
    check("/api/user.info", "post", "200", (await post(`${svc.url}/api/user.info`, {}, { authorization: `Bearer ${issued.token}` })).json);
    check("/api/totp.enroll", "post", "200", (await post(`${svc.url}/api/totp.enroll`, {}, { authorization: `Bearer ${issued.token}` })).json);
  });

  it("a response with an undocumented key would fail the check", () => {
    expect(() => check("/api/session.issueToken", "post", "200", { ok: true, token: "t", expiresAt: "2026-01-01T00:00:00Z", extra: 1 })).toThrow();
  });

  it("every method ignores unknown request fields, and every request schema says so (answers stay exact)", async () => {
    for (const { path, envelope, alsoGet } of LEGACY_ROUTES) {
      // (getUser documents no body: it is fetched with GET.)
      if (!alsoGet) expect(accepts(path, { unknownField: "x" }), path).toBe(true);
      const plain = envelope === "yeep" ? await post(`${svc.url}${path}`, {}) : await cosync(svc.url, path.slice("/api/appuser/".length), {}, {});
      const extra = envelope === "yeep" ? await post(`${svc.url}${path}`, { unknownField: "x" }) : await cosync(svc.url, path.slice("/api/appuser/".length), { unknownField: "x" }, {});
      // (A passkey challenge is new in every answer.)
      const fresh = (json: unknown) => JSON.parse(JSON.stringify(json).replace(/(\\"challenge\\":\\")[\w-]+/g, "$1"));
      expect([extra.status, fresh(extra.json)], path).toStrictEqual([plain.status, fresh(plain.json)]);
    }
    // Successes too, with unknown fields at the top and nested.
    const body = { user: "coyote", password: COYOTE.password, projection: { profile: true, colour: "red" }, rememberMe: true };
    expect(accepts("/api/session.issueToken", body)).toBe(true);
    const issued = await post(`${svc.url}/api/session.issueToken`, body);
    expect(issued.json.ok).toBe(true);
    expect(accepts("/api/user.info", { include: ["everything"] })).toBe(true);
    const info = (await post(`${svc.url}/api/user.info`, { include: ["everything"] }, { authorization: `Bearer ${issued.json.token}` })).json;
    expect(info.user.username).toBe("coyote");
    check("/api/user.info", "post", "200", info);
    const acme = { "app-token": APP_TOKENS.acme };
    expect(accepts("/api/appuser/login", { handle: WILE.handle, password: md5(WILE.password), deviceId: "d1" })).toBe(true);
    const login = await cosync(svc.url, "login", { handle: WILE.handle, password: md5(WILE.password), deviceId: "d1" }, acme);
    expect(login.json["access-token"]).toEqual(expect.any(String));
    // Known fields keep their types on both sides.
    expect(accepts("/api/user.info", { id: 5 })).toBe(false);
    expect((await post(`${svc.url}/api/user.info`, { id: 5 }, { authorization: `Bearer ${issued.json.token}` })).json.error.code).toBe(400);
  });

  it("Cosync-style answers, successes and errors, match the document", async () => {
    const acme = { "app-token": APP_TOKENS.acme };
    const login = await cosync(svc.url, "login", { handle: WILE.handle, password: md5(WILE.password) }, acme);
    check("/api/appuser/login", "post", "200", login.json);
    check("/api/appuser/login", "post", "200", (await cosync(svc.url, "login", { handle: RR.handle, password: md5(RR.password) }, acme)).json);
    const wrong = await cosync(svc.url, "login", { handle: WILE.handle, password: md5("x") }, acme);
    check("/api/appuser/login", "post", String(wrong.status), wrong.json);
    const user = await cosync(svc.url, "getUser", null, { "access-token": login.json["access-token"] });
    check("/api/appuser/getUser", "get", "200", user.json);
    const google = await cosync(svc.url, "setTwoFactorGoogleVerification", { twoFactor: true }, { "access-token": login.json["access-token"] });
    check("/api/appuser/setTwoFactorGoogleVerification", "post", "200", google.json);
    const bad = await cosync(svc.url, "getUser", null, { "access-token": "nope" });
    check("/api/appuser/getUser", "get", String(bad.status), bad.json);
  });
});
