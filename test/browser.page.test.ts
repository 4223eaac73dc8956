// The sign-in page in real headless Chromium (Debian's, driven by playwright-core): sign-in without and with
// TOTP, clear messages, the HttpOnly cookie invisible to page script, an expired token refreshed while the
// session lives, and sign-out revoking the session. Screenshots of each step go to test/artifacts/ (git-ignored).
import { join } from "node:path";
import { generate } from "otplib";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { artifacts, buildPage, haveChromium, launchChromium } from "./support/browser.js";
import { COYOTE, post, ROADRUNNER, startTestService, TOTP_SECRET, type TestService } from "./support/service.js";


describe.skipIf(!haveChromium)("sign-in page in Chromium", () => {
  let svc: TestService;
  let browser: Browser;
  beforeAll(async () => {
    await buildPage();
    svc = await startTestService();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await svc?.close();
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: join(artifacts, `${name}.png`) });
  const signIn = async (page: Page, login: string, password: string) => {
    await page.getByLabel("Username or email").fill(login);
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
  };

  /** The page's heading once it has decided between the sign-in form and the account. */
  const settled = async (page: Page) => {
    await page.locator("#signin-form:not([hidden]), #account:not([hidden])").waitFor();
    return page.locator("#title").textContent();
  };

  it("signs in without TOTP, keeps the cookie HttpOnly, shows user.info, and signing out revokes", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(svc.url);
    await shot(page, "1-sign-in-form");

    await signIn(page, COYOTE.email, "wrong password");
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("Wrong username or password.");
    await shot(page, "2-wrong-password");

    await signIn(page, COYOTE.email, COYOTE.password);
    await page.getByRole("heading", { name: "Your account" }).waitFor();
    expect(await page.locator("#account-username").textContent()).toBe("coyote");
    expect(await page.locator("#account-name").textContent()).toBe("Wile E. Coyote");
    await shot(page, "3-signed-in");

    const cookie = (await context.cookies()).find((c) => c.name === "session")!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe("Lax");
    expect(await page.evaluate(() => document.cookie)).not.toContain("session=");

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("You are signed out.");
    await shot(page, "4-signed-out");
    // The old cookie value no longer opens anything.
    expect((await post(`${svc.url}/api/user.info`, {}, { cookie: `session=${cookie.value}` })).json.error.code).toBe(10000);
    await page.reload();
    await page.getByLabel("Username or email").waitFor();
    await context.close();
  });

  it("stays signed in after the token expires (refreshing the cookie) while the session lives, not after it ends", async () => {
    const short = await startTestService({ SESSION_TOKEN_TTL: "60" });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(short.url);
      await signIn(page, COYOTE.email, COYOTE.password);
      await page.getByRole("heading", { name: "Your account" }).waitFor();
      const first = (await context.cookies()).find((c) => c.name === "session")!.value;

      short.clock.advance(61_000);
      // The token alone no longer opens user.info: only a refresh can keep the page signed in.
      expect((await post(`${short.url}/api/user.info`, {}, { cookie: `session=${first}` })).json.error.code).toBe(10000);
      await page.reload();
      expect(await settled(page)).toBe("Your account");
      expect(await page.locator("#account-username").textContent()).toBe("coyote");
      const second = (await context.cookies()).find((c) => c.name === "session")!.value;
      expect(second).not.toBe(first);
      expect((await post(`${short.url}/api/user.info`, {}, { cookie: `session=${second}` })).json.user.username).toBe("coyote");
      await shot(page, "8-signed-in-after-token-expiry");

      // The session ends elsewhere (sign-out of the same session from another client): the page says signed out.
      short.clock.advance(61_000);
      expect((await post(`${short.url}/api/session.destroyCookie`, {}, { cookie: `session=${second}` })).json.ok).toBe(true);
      await page.reload();
      expect(await settled(page)).toBe("Sign in");
      expect(await page.getByLabel("Username or email").isVisible()).toBe(true);
    } finally {
      await context.close();
      await short.close();
    }
  });

  it("says when sign-in is blocked, with the wait", async () => {
    const strict = await startTestService({ LIMIT_ACCOUNT_IP_FAILURES: "1" });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(strict.url);
      await signIn(page, COYOTE.email, "wrong password");
      await expect.poll(() => page.getByRole("alert").textContent()).toBe("Wrong username or password.");
      await signIn(page, COYOTE.email, COYOTE.password);
      await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/^Too many attempts; sign-in is blocked for now\. Try again in \d+ s\.$/);
      await shot(page, "7-blocked");
    } finally {
      await context.close();
      await strict.close();
    }
  });

  it("asks for the TOTP code when the account has one, then signs in", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(svc.url);
    await signIn(page, ROADRUNNER.username, ROADRUNNER.password);
    await page.getByLabel("Authentication code").waitFor();
    await shot(page, "5-totp-step");

    await page.getByLabel("Authentication code").fill("000000");
    await page.getByRole("button", { name: "Verify" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/not valid/);

    const code = await generate({ secret: TOTP_SECRET, epoch: Math.floor(svc.clock.now() / 1000) });
    await page.getByLabel("Authentication code").fill(code);
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByRole("heading", { name: "Your account" }).waitFor();
    expect(await page.locator("#account-mfa").textContent()).toBe("on");
    await shot(page, "6-signed-in-with-totp");
    await context.close();
  });
});
