// GET /api/docs: the OpenAPI 3 document from which Yeep's official JS client builds its
// whole API object (one function per `paths[path].post.operationId`).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COYOTE, startTestService, type TestService } from "./support/service.js";

const METHODS = [
  "session.setCookie",
  "session.refreshCookie",
  "session.destroyCookie",
  "session.issueToken",
  "session.refreshToken",
  "session.destroyToken",
  "session.list",
  "session.revoke",
  "session.revokeOthers",
  "user.info",
  "totp.enroll",
  "totp.activate",
  "totp.eject",
  "recoveryCodes.generate",
  "passkey.authenticationOptions",
  "passkey.registrationOptions",
  "passkey.register",
  "passkey.list",
  "passkey.rename",
  "passkey.delete",
];

/** The way yeepio/js-client uses the document: operationId -> POST path, ok:false -> error. */
async function yeepClient(baseUrl: string, bearer?: () => string | undefined) {
  const doc = (await (await fetch(`${baseUrl}/api/docs`)).json()) as { paths: Record<string, { post?: { operationId: string } }> };
  const api: Record<string, (body?: object) => Promise<any>> = {};
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!item.post) continue;
    api[item.post.operationId] = async (body = {}) => {
      const token = bearer?.();
      const res = await fetch(`${baseUrl}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as any;
      if (!json.ok) throw Object.assign(new Error(json.error.message), { code: json.error.code, details: json.error.details });
      return json;
    };
  }
  return api;
}

describe("/api/docs", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(() => svc?.close());

  it("is an OpenAPI 3 document with every method as a POST whose operationId is the method name", async () => {
    const res = await fetch(`${svc.url}/api/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const doc = (await res.json()) as any;
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths).sort()).toStrictEqual(METHODS.map((m) => `/api/${m}`).sort());
    for (const m of METHODS) expect(doc.paths[`/api/${m}`].post.operationId).toBe(m);
    // Request schemas come from the protos, with the legacy JSON names.
    const setCookie = doc.components.schemas["signin.session.v1.SetCookieRequest"].properties;
    expect(Object.keys(setCookie)).toStrictEqual(["user", "password", "projection", "secondaryAuthFactor", "deviceToken", "rememberDevice", "passkey"]);
    const issued = doc.paths["/api/session.issueToken"].post.responses["200"].content["application/json"].schema.oneOf[0];
    expect(issued.properties.expiresAt).toStrictEqual({ type: "string", format: "date-time" });
    expect(issued.required).toStrictEqual(["ok"]);
  });

  it("drives a client built the way Yeep's JS client builds its API object", async () => {
    let token: string | undefined;
    const api = await yeepClient(svc.url, () => token);
    expect(Object.keys(api).sort()).toStrictEqual([...METHODS].sort());
    token = (await api["session.issueToken"]!({ user: "coyote@acme.com", password: COYOTE.password })).token;
    expect((await api["user.info"]!()).user.username).toBe("coyote");
    await expect(api["session.issueToken"]!({ user: "coyote", password: "nope" })).rejects.toMatchObject({ code: 10002 });
    await api["session.destroyToken"]!({ token });
    await expect(api["user.info"]!()).rejects.toMatchObject({ code: 10000 });
  });
});
