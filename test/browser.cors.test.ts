// CORS for browsers on other origins: only CORS_ORIGINS are answered, with credentials, and the
// Connect/gRPC-Web headers allowed and exposed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

const APP = "https://app.example.com";

describe("CORS", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ CORS_ORIGINS: `${APP}, http://localhost:5173` });
  });
  afterAll(() => svc?.close());

  const preflight = (origin: string, path: string) =>
    fetch(`${svc.url}${path}`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,connect-protocol-version" },
    });

  it("answers a preflight from a listed origin with methods, Connect headers and credentials", async () => {
    const res = await preflight(APP, "/signin.session.v1.SessionService/SetCookie");
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    const allowed = res.headers.get("access-control-allow-headers")!.toLowerCase();
    for (const h of ["content-type", "connect-protocol-version", "connect-timeout-ms", "x-grpc-web", "authorization"]) expect(allowed).toContain(h);
    expect(res.headers.get("vary")).toBe("Origin");
  });

  it("gives an unlisted origin no CORS headers at all", async () => {
    const res = await preflight("https://evil.example.net", "/signin.session.v1.SessionService/SetCookie");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    const actual = await post(`${svc.url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password }, { origin: "https://evil.example.net" });
    expect(actual.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("on actual requests from a listed origin: the origin echoed, credentials allowed, headers exposed", async () => {
    const res = await post(`${svc.url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password }, { origin: APP });
    expect(res.json.ok).toBe(true);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    const exposed = res.headers.get("access-control-expose-headers")!.toLowerCase();
    for (const h of ["grpc-status", "grpc-message", "grpc-status-details-bin", "retry-after"]) expect(exposed).toContain(h);
    const connect = await fetch(`${svc.url}/signin.session.v1.SessionService/IssueToken`, {
      method: "POST",
      headers: { origin: "http://localhost:5173", "content-type": "application/json", "connect-protocol-version": "1" },
      body: JSON.stringify({ user: "coyote", password: COYOTE.password }),
    });
    expect(connect.status).toBe(200);
    expect(connect.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
  });
});
