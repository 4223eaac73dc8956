// The per-app limit counts only requests the per-client limits let through: one client, however
// many requests it sends, cannot spend the whole app's budget and lock everyone else out.
import { afterEach, describe, expect, it } from "vitest";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

const running: TestService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

describe("the app's budget", () => {
  it("50 requests from one IP (45 refused by its own limit) leave the app's 50 open to another IP", async () => {
    const svc = await startTestService({ LIMIT_IP_REQUESTS: "5/60", LIMIT_APP_REQUESTS: "50/60", TRUSTED_PROXIES: "loopback" });
    running.push(svc);
    const from = (ip: string, user: string, password: string) =>
      post(`${svc.url}/api/session.setCookie`, { user, password }, { "x-forwarded-for": ip });
    const codes: number[] = [];
    for (let i = 0; i < 50; i++) codes.push((await from("203.0.113.9", `nobody${i}`, "x")).json.error.code);
    expect(codes).toStrictEqual([...Array(5).fill(10002), ...Array(45).fill(10429)]);
    // 5 requests charged to the app, not 50.
    expect((await from("198.51.100.7", "coyote", COYOTE.password)).json.ok).toBe(true);
  });
});
