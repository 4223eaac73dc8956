// An administrator's ResetSecondFactors removes passkeys too: a user whose only factor was a lost
// passkey is unlocked (signs in with the password alone afterwards), and the sessions issued
// before the reset end.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SoftAuthenticator } from "./support/passkey-authenticator.js";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

const ADMIN_TOKEN = "admin-token-for-the-passkey-reset-test-0123456789";
const cookieOf = (res: { headers: Headers }) => res.headers.getSetCookie().find((c) => c.startsWith("session="))!.split(";")[0]!;

describe("admin ResetSecondFactors and passkeys", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ ADMIN_TOKEN });
  });
  afterAll(() => svc?.close());

  it("removes the account's passkeys: the password alone signs in again, earlier sessions end", async () => {
    const signIn = () => post(`${svc.url}/api/session.setCookie`, { user: COYOTE.email, password: COYOTE.password });
    const cookie = cookieOf(await signIn());
    const device = new SoftAuthenticator(`http://localhost:${new URL(svc.url).port}`);
    const pwd = { secondaryAuthFactor: { type: "PASSWORD", token: COYOTE.password } };
    const options = JSON.parse((await post(`${svc.url}/api/passkey.registrationOptions`, pwd, { cookie })).json.optionsJson);
    expect((await post(`${svc.url}/api/passkey.register`, { responseJson: JSON.stringify(device.create(options)) }, { cookie })).json.ok).toBe(true);
    expect((await signIn()).json.error).toMatchObject({ code: 10034, applicableAuthFactorTypes: ["WEBAUTHN"] });

    const reset = await post(`${svc.url}/signin.admin.v1.AdminService/ResetSecondFactors`, { id: COYOTE.id }, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(reset.status).toBe(200);
    expect((await post(`${svc.url}/api/user.info`, {}, { cookie })).json.error.code).toBe(10000);
    svc.clock.advance(1000); // a sign-in after the reset's revocation stamp
    const again = await signIn();
    expect(again.json.ok).toBe(true);
    expect((await post(`${svc.url}/api/passkey.list`, {}, { cookie: cookieOf(again) })).json.passkeys).toStrictEqual([]);
  });
});
