// Bad input on the Yeep-style paths gets the documented answer in the Yeep envelope,
// never a crash, a stack trace or a 500.
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post, startTestService, type TestService } from "./support/service.js";

describe("bad input on the legacy paths", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ MAX_BODY_BYTES: "2048" });
  });
  afterAll(() => svc?.close());

  const setCookie = (body: unknown, headers: Record<string, string> = {}) => post(`${svc.url}/api/session.setCookie`, body, headers);
  const invalid = { ok: false, error: { code: 400, message: "Invalid request body" } };

  it("a body that is not JSON: 400 Invalid request body with details", async () => {
    const res = await setCookie("{not json");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject(invalid);
    expect(res.json.error.details).toStrictEqual([{ message: "Body is not valid JSON", path: [] }]);
  });

  it("JSON that is not an object, or another content type: 400", async () => {
    for (const body of ["[1,2]", "42", '"x"', "null"]) expect((await setCookie(body)).json).toMatchObject(invalid);
    expect((await setCookie("user=coyote", { "content-type": "text/plain" })).json).toMatchObject(invalid);
  });

  it("fields of the wrong type: 400 naming the field", async () => {
    const res = await setCookie({ user: 42, password: "x" });
    expect(res.json).toMatchObject(invalid);
    expect(res.json.error.details[0].path).toStrictEqual(["user"]);
    expect((await setCookie({ user: "coyote", password: ["x"] })).json.error.details[0].path).toStrictEqual(["password"]);
    expect((await setCookie({ user: "coyote", password: "x", projection: "all" })).json).toMatchObject(invalid);
  });

  it("missing fields: 400 with one detail per missing field", async () => {
    const res = await setCookie({});
    expect(res.json).toMatchObject(invalid);
    expect(res.json.error.details.map((d: { path: string[] }) => d.path.join("."))).toStrictEqual(["user", "password"]);
    const factor = await setCookie({ user: "coyote", password: "x", secondaryAuthFactor: {} });
    expect(factor.json.error.details.map((d: { path: string[] }) => d.path.join("."))).toStrictEqual([
      "secondaryAuthFactor.type",
      "secondaryAuthFactor.token",
    ]);
  });

  it("an empty body is an empty request: 400 for the missing fields", async () => {
    const res = await fetch(`${svc.url}/api/session.setCookie`, { method: "POST" });
    expect(await res.json()).toMatchObject(invalid);
  });

  it("unknown fields are ignored (as legacy clients may send extras)", async () => {
    const res = await setCookie({ user: "coyote", password: "catch-the-b1rd$", rememberMe: true });
    expect(res.json.ok).toBe(true);
  });

  it("a body over MAX_BODY_BYTES: code 413 without reading it all, declared or streamed", async () => {
    const huge = JSON.stringify({ user: "coyote", password: "x".repeat(5000) });
    const declared = await setCookie(huge);
    expect(declared.json).toStrictEqual({ ok: false, error: { code: 413, message: "Request body too large" } });

    // Chunked, with no Content-Length: the limit is enforced while reading.
    const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${svc.url}/api/session.setCookie`, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode!, body }));
      });
      req.on("error", reject);
      for (let i = 0; i < 10; i++) req.write("x".repeat(1000));
      req.end();
    });
    expect(JSON.parse(streamed.body)).toStrictEqual({ ok: false, error: { code: 413, message: "Request body too large" } });
  });

  it("an unknown path under /api: 404 in the Yeep envelope; GET on a method: 405", async () => {
    const res = await post(`${svc.url}/api/session.nope`, {});
    expect(res.status).toBe(404);
    expect(res.json).toStrictEqual({ ok: false, error: { code: 404, message: "Resource not found" } });
    const get = await fetch(`${svc.url}/api/session.setCookie`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect(await get.json()).toMatchObject({ ok: false, error: { code: 405 } });
    expect((await fetch(`${svc.url}/nothing-here`)).status).toBe(404);
  });

  it("over-long credentials are refused before any hashing", async () => {
    const res = await setCookie({ user: "coyote", password: "p".repeat(1025) });
    expect(res.json.error).toMatchObject({ code: 400, details: [{ path: ["password"] }] });
  });

  it("the service still answers normally after all of the above", async () => {
    expect((await setCookie({ user: "coyote", password: "catch-the-b1rd$" })).json.ok).toBe(true);
  });
});
