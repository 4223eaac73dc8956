// SMS budgets: a sign-in code counts against the account's own number budget, a verification
// code against the typed number's (across apps), so another account's flood at a victim's number
// cannot make the victim's phone sign-in answer 429; a send one budget refuses costs the other nothing.
import { afterEach, describe, expect, it } from "vitest";
import { APP_TOKENS, COSYNC_APPS, COSYNC_USERS, cosync, md5, SmsReceiver } from "./support/cosync.js";
import { startTestService, type TestService } from "./support/service.js";

const VICTIM_PHONE = "+15555550100"; // caller@phone.co's verified number, phone two-factor on

let sms: SmsReceiver | undefined;
let svc: TestService | undefined;
afterEach(async () => {
  await svc?.close();
  await sms?.close();
});

describe("SMS budgets", () => {
  it("another account's setPhone flood at the victim's number: refused there, and the victim still gets a sign-in code", async () => {
    sms = await new SmsReceiver().start();
    const service = await startTestService(
      { LIMIT_SMS_PHONE: "1/3600", LIMIT_SMS_ACCOUNT: "3/3600", SMS_WEBHOOK_URL: sms.url, SMS_WEBHOOK_SECRET: sms.secret },
      COSYNC_USERS,
      COSYNC_APPS,
    );
    svc = service;
    const phoneApp = { "app-token": APP_TOKENS.phone };
    const attacker = (await cosync(service.url, "login", { handle: "plain@phone.co", password: md5("plain-pw") }, phoneApp)).json["access-token"] as string;
    const setPhone = (phone: string) => cosync(service.url, "setPhone", { phone }, { "access-token": attacker });

    expect((await setPhone(VICTIM_PHONE)).status).toBe(200); // one unsolicited text, then the number's budget is spent
    expect((await setPhone(VICTIM_PHONE)).status).toBe(429);
    expect((await setPhone(VICTIM_PHONE)).status).toBe(429);
    // The two refusals were given back to the attacker's account budget (3): a second send fits.
    expect((await setPhone("+15555550177")).status).toBe(200);

    const login = () => cosync(service.url, "login", { handle: "caller@phone.co", password: md5("ring-ring") }, phoneApp);
    const first = await login();
    expect(first.status).toBe(200);
    expect(first.json["login-token"]).toEqual(expect.any(String));
    expect(sms.last().body).toMatchObject({ to: VICTIM_PHONE, purpose: "login" });
    // The victim's own budget still holds.
    expect((await login()).status).toBe(429);
    expect(sms.received.map((r) => r.body.purpose)).toStrictEqual(["verify-phone", "verify-phone", "login"]);
  });
});
