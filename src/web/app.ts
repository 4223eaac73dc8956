/// <reference lib="dom" />
// The sign-in page: password, then the TOTP step when the answer asks for it, then the account
// (user.info) and a sign-out button. It talks to the service with connect-web; the session is
// the HttpOnly cookie, which this script never sees. Its token expires long before the session
// (15 min vs 30 days), so a refused call refreshes the cookie once and retries.
// "Your devices" lists the account's live sessions (ListSessions) with a sign-out button for each
// other one (RevokeSession), which ends that session everywhere at once.
// Passkeys (@simplewebauthn/browser): "Sign in with a passkey" (passwordless), the passkey as the
// second step when the answer lists WEBAUTHN, and "Your security" to add (with the password) and remove them.
import { startAuthentication, startRegistration } from "@simplewebauthn/browser";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { createWebClients, ErrorDetailSchema } from "../clients/web.js";
import type { Session } from "../../gen/signin/session/v1/session_pb.js";
import type { PasskeyInfo } from "../../gen/signin/session/v1/passkey_pb.js";

const api = createWebClients(location.origin);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const signinForm = $<HTMLFormElement>("signin-form");
const totpForm = $<HTMLFormElement>("totp-form");
const account = $<HTMLElement>("account");
const message = $<HTMLParagraphElement>("message");

function say(text: string, kind: "error" | "info" = "error") {
  message.textContent = text;
  message.className = kind;
}

function show(step: "signin" | "totp" | "account") {
  signinForm.hidden = step !== "signin";
  totpForm.hidden = step !== "totp";
  account.hidden = step !== "account";
  $("title").textContent = step === "account" ? "Your account" : "Sign in";
  if (step === "signin") $<HTMLInputElement>("login").focus();
  if (step === "totp") $<HTMLInputElement>("code").focus();
}

/** The message for a refusal, from the error's stable reason. */
function explain(err: unknown): string {
  const e = ConnectError.from(err);
  const detail = e.findDetails(ErrorDetailSchema)[0];
  const wait = detail?.retryAfterSeconds ? ` Try again in ${detail.retryAfterSeconds} s.` : "";
  switch (detail?.reason) {
    case "INVALID_CREDENTIALS":
      return "Wrong username or password.";
    case "INVALID_SECOND_FACTOR":
      return "That code is not valid. Enter the current code from your authenticator.";
    case "ACCOUNT_DEACTIVATED":
      return "This account is deactivated.";
    case "TOO_MANY_ATTEMPTS":
      return `Too many attempts; sign-in is blocked for now.${wait}`;
    case "BUSY":
    case "SERVICE_UNAVAILABLE":
      return `The service is busy.${wait || " Try again in a moment."}`;
    case "INVALID_REQUEST":
      return "Enter your username or email and your password.";
    default:
      return "Sign-in failed. Please try again.";
  }
}

const unauthenticated = (err: unknown) => ConnectError.from(err).code === Code.Unauthenticated;

/**
 * Runs an authenticated call; when the token is refused (expired), rotates the cookie with
 * RefreshCookie and calls again. A refresh that fails means signed out, unless another tab has
 * just rotated the same session (only one refresh of a token wins): then the jar holds its new
 * cookie, and the second call succeeds with it.
 */
async function withSession<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!unauthenticated(err)) throw err;
  }
  await api.session.refreshCookie({}).catch((err: unknown) => {
    if (!unauthenticated(err)) throw err;
  });
  return call();
}

async function showAccount() {
  const { user } = await withSession(() => api.user.info({}));
  $("account-username").textContent = user?.username ?? "";
  $("account-name").textContent = user?.fullName || "—";
  $("account-email").textContent = user?.emails[0]?.address ?? "—";
  $("account-mfa").textContent = user?.mfaEnabled ? "on" : "off";
  say("");
  show("account");
  // The account is shown even when the list cannot be (the next visit tries again).
  await showDevices().catch(() => say("Your devices could not be listed."));
  await showPasskeys().catch(() => say("Your passkeys could not be listed."));
}

const KINDS: Record<string, string> = { cookie: "browser", bearer: "app (token)", "access-token": "app (access token)" };

/** One row: what and where (text only: a user agent is whatever the other device sent), then its button. */
function deviceRow(s: Session): HTMLLIElement {
  const row = document.createElement("li");
  row.dataset.sessionId = s.id;
  const what = document.createElement("div");
  const name = [s.browser || "Unknown browser", s.os && `on ${s.os}`].filter(Boolean).join(" ");
  what.append(document.createTextNode(name));
  const where = document.createElement("span");
  where.className = "device-where";
  const lastUsed = s.lastUsedAt ? timestampDate(s.lastUsedAt).toLocaleString() : "";
  where.textContent = [s.ip, `last used ${lastUsed}`, KINDS[s.kind] ?? s.kind, s.rememberedDevice ? "remembered" : ""].filter(Boolean).join(" · ");
  what.append(where);
  row.append(what);
  if (s.current) {
    row.className = "current";
    const mark = document.createElement("span");
    mark.className = "this-device";
    mark.textContent = "This device";
    row.append(mark);
  } else {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Sign out";
    button.setAttribute("aria-label", `Sign out ${name}, ${s.ip}`);
    button.addEventListener("click", () => void signOutDevice(s.id, name));
    row.append(button);
  }
  return row;
}

async function showDevices() {
  const { sessions } = await withSession(() => api.session.listSessions({}));
  $("device-list").replaceChildren(...sessions.map(deviceRow));
}

/** Ends another session; one that ended meanwhile is gone from the list all the same. */
async function signOutDevice(id: string, name: string) {
  try {
    await withSession(() => api.session.revokeSession({ id }));
    say(`Signed out ${name}.`, "info");
  } catch (err) {
    if (ConnectError.from(err).findDetails(ErrorDetailSchema)[0]?.reason !== "SESSION_NOT_FOUND") return say("Could not sign that device out. Please try again.");
  }
  await showDevices().catch(() => undefined);
}

async function signIn(factor?: { type: string; token: string }) {
  const form = new FormData(signinForm);
  try {
    await api.session.setCookie({
      user: String(form.get("login") ?? ""),
      password: String(form.get("password") ?? ""),
      secondaryAuthFactor: factor,
    });
    signinForm.reset();
    totpForm.reset();
    await showAccount();
  } catch (err) {
    const detail = ConnectError.from(err).findDetails(ErrorDetailSchema)[0];
    if (detail?.reason === "SECOND_FACTOR_REQUIRED") {
      // The steps the account has: a code (TOTP), a passkey (WEBAUTHN), or both.
      const types = detail.applicableAuthFactorTypes;
      $("code-step").hidden = !types.includes("TOTP");
      $("passkey-step").hidden = !types.includes("WEBAUTHN");
      say("");
      show("totp");
      if (!types.includes("TOTP")) $("passkey-step").focus();
    } else {
      say(factor?.type === "WEBAUTHN" && detail?.reason === "INVALID_SECOND_FACTOR" ? "That passkey was not accepted." : explain(err));
    }
  }
}

/** An assertion for a fresh challenge, as JSON text; null when the user cancelled (said). */
async function passkeyAssertion(): Promise<string | null> {
  const { optionsJson } = await api.passkey.authenticationOptions({});
  try {
    return JSON.stringify(await startAuthentication({ optionsJSON: JSON.parse(optionsJson) }));
  } catch {
    say("No passkey was used.");
    return null;
  }
}

/** Passwordless: the passkey names the account and counts as both steps. */
async function passkeySignIn() {
  try {
    const passkey = await passkeyAssertion();
    if (!passkey) return;
    await api.session.setCookie({ passkey });
    signinForm.reset();
    await showAccount();
  } catch (err) {
    const reason = ConnectError.from(err).findDetails(ErrorDetailSchema)[0]?.reason;
    say(reason === "INVALID_CREDENTIALS" ? "That passkey was not accepted." : explain(err));
  }
}

function passkeyRow(p: PasskeyInfo): HTMLLIElement {
  const row = document.createElement("li");
  row.dataset.passkeyId = p.id;
  row.append(document.createTextNode(p.name));
  const when = document.createElement("span");
  when.className = "device-where";
  const added = p.createdAt ? timestampDate(p.createdAt).toLocaleString() : "";
  when.textContent = [`added ${added}`, p.lastUsedAt ? `last used ${timestampDate(p.lastUsedAt).toLocaleString()}` : "never used"].join(" · ");
  row.append(when);
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Remove";
  button.setAttribute("aria-label", `Remove passkey ${p.name}`);
  button.addEventListener("click", () => void removePasskey(p));
  row.append(button);
  return row;
}

async function showPasskeys() {
  const { passkeys } = await withSession(() => api.passkey.list({}));
  $("passkey-list").replaceChildren(...passkeys.map(passkeyRow));
}

/** The step-up: the password typed in "Your security", if any (a recent sign-in with a second factor does without). */
function stepUp() {
  const password = $<HTMLInputElement>("passkey-password").value;
  return password ? { type: "PASSWORD", token: password } : undefined;
}

function explainChange(err: unknown): string {
  const reason = ConnectError.from(err).findDetails(ErrorDetailSchema)[0]?.reason;
  if (reason === "STEP_UP_REQUIRED") return "Enter your current password first.";
  if (reason === "INVALID_CREDENTIALS") return "Wrong password.";
  return "The passkey could not be saved. Please try again.";
}

async function addPasskey() {
  const form = $<HTMLFormElement>("passkey-form");
  try {
    const { optionsJson } = await withSession(() => api.passkey.registrationOptions({ secondaryAuthFactor: stepUp() }));
    let response: string;
    try {
      response = JSON.stringify(await startRegistration({ optionsJSON: JSON.parse(optionsJson) }));
    } catch {
      return say("No passkey was created.");
    }
    const name = $<HTMLInputElement>("passkey-name").value;
    await withSession(() => api.passkey.register({ responseJson: response, name }));
    form.reset();
    say("Passkey added.", "info");
    await showPasskeys();
  } catch (err) {
    say(explainChange(err));
  }
}

async function removePasskey(p: PasskeyInfo) {
  try {
    await withSession(() => api.passkey.delete({ id: p.id, secondaryAuthFactor: stepUp() }));
    $<HTMLFormElement>("passkey-form").reset();
    say(`Removed passkey ${p.name}.`, "info");
    await showPasskeys();
  } catch (err) {
    say(explainChange(err));
  }
}

signinForm.addEventListener("submit", (e) => {
  e.preventDefault();
  void signIn();
});

totpForm.addEventListener("submit", (e) => {
  e.preventDefault();
  void signIn({ type: "TOTP", token: String(new FormData(totpForm).get("code") ?? "") });
});

$("passkey-signin").addEventListener("click", () => void passkeySignIn());

$("passkey-step").addEventListener("click", async () => {
  const token = await passkeyAssertion().catch((err: unknown) => (say(explain(err)), null));
  if (token) await signIn({ type: "WEBAUTHN", token });
});

$("passkey-form").addEventListener("submit", (e) => {
  e.preventDefault();
  void addPasskey();
});

$("signout").addEventListener("click", async () => {
  try {
    await api.session.destroyCookie({});
  } finally {
    show("signin");
    say("You are signed out.", "info");
  }
});

// Already signed in (the cookie is sent along)? Then show the account straight away.
showAccount().catch(() => show("signin"));

// Back to a tab left open: check the session again (refreshing it), so the page never shows an
// account whose session has ended, nor signs out one that still lives.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && !account.hidden) {
    showAccount().catch((err: unknown) => {
      if (!unauthenticated(err)) return; // unreachable for now: still signed in as far as we know
      show("signin");
      say("Your session has ended. Please sign in again.", "info");
    });
  }
});
