// Passkeys on the sign-in page, in real headless Chromium with a CDP virtual authenticator (ctap2,
// internal, resident keys, user verification): register one in "Your security" (with the password),
// sign out, sign in with the passkey only, then with the password and the passkey as the second step.
// An assertion the page sent, replayed, and one the browser made for a challenge the server never
// gave, are refused. The page runs on http://localhost (browsers refuse passkeys on an IP address).
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { artifacts, buildPage, haveChromium, launchChromium } from "./support/browser.js";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

describe.skipIf(!haveChromium)("passkeys on the page, in Chromium", () => {
  let svc: TestService;
  let browser: Browser;
  let origin: string;
  beforeAll(async () => {
    await buildPage();
    svc = await startTestService();
    origin = `http://localhost:${new URL(svc.url).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await svc?.close();
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: join(artifacts, `passkeys-${name}.png`) });
  const heading = (page: Page) => page.getByRole("heading", { name: "Your account" }).waitFor();
  const signInWithPassword = async (page: Page) => {
    await page.getByLabel("Username or email").fill(COYOTE.email);
    await page.getByLabel("Password", { exact: true }).fill(COYOTE.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
  };
  const signOut = async (page: Page) => {
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("You are signed out.");
  };
  /** The SetCookie request the page sends next, as the JSON it posts. */
  const nextSetCookie = (page: Page) => page.waitForRequest((r) => r.url().endsWith("/signin.session.v1.SessionService/SetCookie")).then((r) => r.postDataJSON());

  it("registers a passkey, signs in with it alone and as the second step; replays and foreign challenges are refused", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send("WebAuthn.enable");
      const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
        options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });
      await page.goto(origin);
      await signInWithPassword(page);
      await heading(page);

      // Register: the password is the step-up (this sign-in passed no second factor).
      await page.getByLabel("Passkey name").fill("Virtual laptop");
      await page.getByRole("button", { name: "Add a passkey" }).click();
      await expect.poll(() => page.getByRole("alert").textContent()).toBe("Enter your current password first.");
      await page.getByLabel("Current password").fill(COYOTE.password);
      await page.getByRole("button", { name: "Add a passkey" }).click();
      await expect.poll(() => page.getByRole("alert").textContent()).toBe("Passkey added.");
      await expect.poll(() => page.locator("#passkey-list li").textContent()).toMatch(/^Virtual laptopadded .+ · never usedRemove$/);
      const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
      expect(credentials).toHaveLength(1);
      expect(credentials[0]!.isResidentCredential).toBe(true);
      await shot(page, "1-registered");
      await signOut(page);

      // Passwordless: the passkey alone.
      const sent = nextSetCookie(page);
      await page.getByRole("button", { name: "Sign in with a passkey" }).click();
      await heading(page);
      expect(await page.locator("#account-username").textContent()).toBe("coyote");
      await expect.poll(() => page.locator("#passkey-list li").textContent()).toMatch(/last used/);
      await shot(page, "2-passwordless");
      const { passkey } = await sent;
      expect(typeof passkey).toBe("string");
      // The same assertion again: its challenge served once.
      expect((await post(`${svc.url}/api/session.setCookie`, { passkey })).json.error.code).toBe(10002);
      await signOut(page);

      // Password, then the passkey as the second step (no code field: the account has no TOTP).
      await signInWithPassword(page);
      await page.getByRole("button", { name: "Use a passkey" }).waitFor();
      expect(await page.locator("#code-step").isHidden()).toBe(true);
      await shot(page, "3-second-step");
      const second = nextSetCookie(page);
      await page.getByRole("button", { name: "Use a passkey" }).click();
      await heading(page);
      const { secondaryAuthFactor } = await second;
      expect(secondaryAuthFactor.type).toBe("WEBAUTHN");
      expect((await post(`${svc.url}/api/session.setCookie`, { user: COYOTE.email, password: COYOTE.password, secondaryAuthFactor })).json.error.code).toBe(10035);

      // The browser's own assertion for a challenge the server never handed out.
      const foreign = await page.evaluate(async () => {
        const b64u = (b: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
        const cred = (await navigator.credentials.get({ publicKey: { challenge: crypto.getRandomValues(new Uint8Array(32)), rpId: "localhost", userVerification: "required" } })) as PublicKeyCredential;
        const r = cred.response as AuthenticatorAssertionResponse;
        return JSON.stringify({
          id: cred.id,
          rawId: b64u(cred.rawId),
          type: cred.type,
          clientExtensionResults: {},
          response: { clientDataJSON: b64u(r.clientDataJSON), authenticatorData: b64u(r.authenticatorData), signature: b64u(r.signature), userHandle: r.userHandle ? b64u(r.userHandle) : undefined },
        });
      });
      expect((await post(`${svc.url}/api/session.setCookie`, { passkey: foreign })).json.error.code).toBe(10002);
      expect((await post(`${svc.url}/api/session.setCookie`, { user: COYOTE.email, password: COYOTE.password, secondaryAuthFactor: { type: "WEBAUTHN", token: foreign } })).json.error.code).toBe(10035);
    } finally {
      await context.close();
    }
  });
});
