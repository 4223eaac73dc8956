// Passwordless sign-in with a discoverable passkey: session.setCookie / issueToken (REST and the
// SessionService RPCs) take `passkey`, the AuthenticationResponseJSON answering a challenge from
// passkey.authenticationOptions, instead of user and password. The authenticator must have verified
// the user; the sign-in counts as two factors (its session is a step-up). A replayed assertion, one
// without user verification, or one for a challenge never issued is refused (10002), audited.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionService } from "../gen/signin/session/v1/session_pb.js";
import { SoftAuthenticator } from "./support/passkey-authenticator.js";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

const cookieOf = (res: { headers: Headers }) => res.headers.getSetCookie().find((c) => c.startsWith("session="))?.split(";")[0];

describe("passwordless sign-in with a passkey", () => {
  let svc: TestService;
  let device: SoftAuthenticator;
  beforeAll(async () => {
    svc = await startTestService();
    device = new SoftAuthenticator(`http://localhost:${new URL(svc.url).port}`);
    const cookie = cookieOf(await post(`${svc.url}/api/session.setCookie`, { user: COYOTE.email, password: COYOTE.password }))!;
    const options = JSON.parse((await post(`${svc.url}/api/passkey.registrationOptions`, { secondaryAuthFactor: { type: "PASSWORD", token: COYOTE.password } }, { cookie })).json.optionsJson);
    expect((await post(`${svc.url}/api/passkey.register`, { responseJson: JSON.stringify(device.create(options)) }, { cookie })).json.ok).toBe(true);
  });
  afterAll(() => svc?.close());

  const options = async () => JSON.parse((await post(`${svc.url}/api/passkey.authenticationOptions`, {})).json.optionsJson);

  it("session.setCookie with a passkey alone signs in, as two factors", async () => {
    const res = await post(`${svc.url}/api/session.setCookie`, { passkey: JSON.stringify(device.get(await options())), projection: { profile: true } });
    expect(res.json).toMatchObject({ ok: true });
    const cookie = cookieOf(res)!;
    expect((await post(`${svc.url}/api/user.info`, {}, { cookie })).json.user).toMatchObject({ id: COYOTE.id });
    // A step-up without the password: the sign-in proved two factors.
    expect((await post(`${svc.url}/api/passkey.registrationOptions`, {}, { cookie })).json.ok).toBe(true);
    expect(svc.logs.some((l) => l.audit && l.event === "sign_in.success" && l.accountId === COYOTE.id)).toBe(true);
  });

  it("session.issueToken and the IssueToken RPC take it too", async () => {
    expect((await post(`${svc.url}/api/session.issueToken`, { passkey: JSON.stringify(device.get(await options())) })).json).toMatchObject({ ok: true, token: expect.any(String) });
    const client = createClient(SessionService, createConnectTransport({ baseUrl: svc.url, httpVersion: "1.1" }));
    const issued = await client.issueToken({ passkey: JSON.stringify(device.get(await options())) });
    expect(issued.token).toMatch(/^ey/);
  });

  it("refuses a replay, an assertion without user verification, and one for a challenge never issued", async () => {
    const assertion = JSON.stringify(device.get(await options()));
    expect((await post(`${svc.url}/api/session.setCookie`, { passkey: assertion })).json.ok).toBe(true);
    const replay = await post(`${svc.url}/api/session.setCookie`, { passkey: assertion });
    expect(replay.json.error.code).toBe(10002);
    expect(cookieOf(replay)).toBeUndefined();
    device.userVerified = false;
    try {
      expect((await post(`${svc.url}/api/session.setCookie`, { passkey: JSON.stringify(device.get(await options())) })).json.error.code).toBe(10002);
    } finally {
      device.userVerified = true;
    }
    const forged = device.get({ challenge: Buffer.from("never handed out by the server").toString("base64url") });
    expect((await post(`${svc.url}/api/session.setCookie`, { passkey: JSON.stringify(forged) })).json.error.code).toBe(10002);
    expect((await post(`${svc.url}/api/session.setCookie`, { passkey: "{}" })).json.error.code).toBe(10002);
    expect(svc.logs.filter((l) => l.audit && l.event === "sign_in.failure" && String(l.reason).startsWith("passkey_")).length).toBeGreaterThanOrEqual(3);
  });

  it("one assertion sent 20 times at once signs in exactly once", async () => {
    const passkey = JSON.stringify(device.get(await options()));
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(`${svc.url}/api/session.setCookie`, { passkey })));
    expect(answers.filter((a) => a.json.ok)).toHaveLength(1);
    expect(answers.filter((a) => a.json.error?.code === 10002)).toHaveLength(19);
  });

  it("challenges and passwordless attempts count against the IP's sign-in requests (LIMIT_IP_REQUESTS)", async () => {
    const limited = await startTestService({ LIMIT_IP_REQUESTS: "3/60" });
    try {
      const ask = () => post(`${limited.url}/api/passkey.authenticationOptions`, {});
      expect((await ask()).json.ok).toBe(true);
      expect((await ask()).json.ok).toBe(true);
      expect((await post(`${limited.url}/api/session.setCookie`, { passkey: "{}" })).json.error.code).toBe(10002);
      expect((await ask()).json.error).toMatchObject({ code: 10429 });
      expect((await post(`${limited.url}/api/session.setCookie`, { passkey: "{}" })).json.error.code).toBe(10429);
      expect(limited.logs.some((l) => l.audit && l.event === "sign_in.blocked" && l.reason === "requests")).toBe(true);
    } finally {
      await limited.close();
    }
  });

  it("a passkey with user and password, or with a second factor, is a bad request", async () => {
    const passkey = JSON.stringify(device.get(await options()));
    expect((await post(`${svc.url}/api/session.setCookie`, { passkey, user: COYOTE.email, password: COYOTE.password })).json.error.code).toBe(400);
    expect((await post(`${svc.url}/api/session.setCookie`, { passkey, secondaryAuthFactor: { type: "TOTP", token: "123456" } })).json.error.code).toBe(400);
  });
});
