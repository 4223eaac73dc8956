// "Your devices" on the sign-in page, in real headless Chromium (issue 16): after sign-in the page lists
// every live session of the account (browser, OS, IP, last used, "This device"), and a session signed in
// elsewhere (an API client, another browser) is signed out with its row's button: its token or cookie
// answers 10000 at once, and the other browser is back at the sign-in form.
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { artifacts, buildPage, haveChromium, launchChromium } from "./support/browser.js";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

const WINDOWS_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";

describe.skipIf(!haveChromium)("Your devices, in Chromium", () => {
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

  const signIn = async (page: Page) => {
    await page.goto(svc.url);
    await page.getByLabel("Username or email").fill(COYOTE.email);
    await page.getByLabel("Password", { exact: true }).fill(COYOTE.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("heading", { name: "Your account" }).waitFor();
  };
  const rows = (page: Page) => page.locator("#device-list li");
  const sessionCookie = async (page: Page) => `session=${(await page.context().cookies()).find((c) => c.name === "session")!.value}`;

  it("lists this browser and an API sign-in; signing out the other row ends that session; a second browser signed out from the first is back at the form", async () => {
    const mine = await browser.newContext();
    const other = await browser.newContext();
    try {
      const page = await mine.newPage();
      await signIn(page);
      await expect.poll(() => rows(page).count()).toBe(1);
      await expect.poll(() => page.locator("#device-list li.current").textContent()).toMatch(/^Chrome \d+ on Linux127\.0\.0\.1 · last used .+ · browserThis device$/);

      // An API client signs in elsewhere: after a reload the page lists it, newest first, with its button.
      svc.clock.advance(1000);
      const token = (await post(`${svc.url}/api/session.issueToken`, { user: "coyote", password: COYOTE.password }, { "user-agent": WINDOWS_FIREFOX })).json.token as string;
      await page.reload();
      await expect.poll(() => rows(page).count()).toBe(2);
      expect(await rows(page).first().textContent()).toMatch(/^Firefox 133 on Windows127\.0\.0\.1 · last used .+ · app \(token\)Sign out$/);
      await page.screenshot({ path: join(artifacts, "devices-1-two-sessions.png") });

      await page.getByRole("button", { name: "Sign out Firefox 133 on Windows, 127.0.0.1" }).click();
      await expect.poll(() => page.getByRole("alert").textContent()).toBe("Signed out Firefox 133 on Windows.");
      await expect.poll(() => rows(page).count()).toBe(1);
      expect((await post(`${svc.url}/api/user.info`, {}, { authorization: `Bearer ${token}` })).json.error.code).toBe(10000);

      // Another browser: listed once the first reloads; its row's button ends its session.
      const second = await other.newPage();
      svc.clock.advance(1000);
      await signIn(second);
      const secondCookie = await sessionCookie(second);
      await page.reload();
      await expect.poll(() => rows(page).count()).toBe(2);
      await page.locator("#device-list li:not(.current) button").click();
      await expect.poll(() => rows(page).count()).toBe(1);
      expect((await post(`${svc.url}/api/user.info`, {}, { cookie: secondCookie })).json.error.code).toBe(10000);
      expect(await page.locator("#device-list li.current").count()).toBe(1);
      expect((await post(`${svc.url}/api/user.info`, {}, { cookie: await sessionCookie(page) })).json.ok).toBe(true);
      await page.screenshot({ path: join(artifacts, "devices-2-other-signed-out.png") });

      await second.reload();
      await second.getByLabel("Username or email").waitFor();
    } finally {
      await mine.close();
      await other.close();
    }
  });
});
