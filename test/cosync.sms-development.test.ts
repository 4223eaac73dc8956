// Without SMS_WEBHOOK_URL the development sender logs that a code was sent, never the code,
// unless SMS_DEV_LOG_CODES=true.
import { describe, expect, it } from "vitest";
import { APP_TOKENS, COSYNC_APPS, COSYNC_USERS, cosync, md5 } from "./support/cosync.js";
import { startTestService } from "./support/service.js";

describe("development SMS sender", () => {
  const loginCaller = (url: string) =>
    cosync(url, "login", { handle: "caller@phone.co", password: md5("ring-ring") }, { "app-token": APP_TOKENS.phone });
  const smsLogs = (logs: Array<Record<string, unknown>>) => logs.filter((l) => String(l.msg).startsWith("SMS code sent"));

  it("logs the send with a masked number and without the code", async () => {
    const svc = await startTestService({}, COSYNC_USERS, COSYNC_APPS);
    try {
      const res = await loginCaller(svc.url);
      expect(res.json["login-token"]).toBeTruthy();
      const [entry, ...more] = smsLogs(svc.logs);
      expect(more).toHaveLength(0);
      expect(entry).toMatchObject({ appId: "phoneco", purpose: "login", to: "+15*******00" });
      expect(entry).not.toHaveProperty("code");
    } finally {
      await svc.close();
    }
  });

  it("with SMS_DEV_LOG_CODES=true the logged code completes the login", async () => {
    const svc = await startTestService({ SMS_DEV_LOG_CODES: "true" }, COSYNC_USERS, COSYNC_APPS);
    try {
      const loginToken = (await loginCaller(svc.url)).json["login-token"];
      const code = smsLogs(svc.logs)[0]?.code as string;
      expect(code).toMatch(/^\d{6}$/);
      const done = await cosync(svc.url, "loginComplete", { loginToken, code }, { "app-token": APP_TOKENS.phone });
      expect(Object.keys(done.json).sort()).toStrictEqual(["access-token", "device-token", "jwt"]); // device-token: issue 16
    } finally {
      await svc.close();
    }
  });
});
