// Passkey settings: the relying party and the origins are checked at start-up, each error naming
// the setting, with defaults that work for the embedded run (localhost, the service's own origin).
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";

describe("passkey settings", () => {
  it("defaults to localhost (an IP cannot be an RP id) or HOST's name, and the service's own origin", () => {
    expect(loadConfig({}).webauthn).toStrictEqual({ rpId: "localhost", rpName: "Sign-in", origins: null });
    expect(loadConfig({ HOST: "Auth.Example.com" }).webauthn).toMatchObject({ rpId: "auth.example.com", origins: null });
  });

  it("takes an RP id with origins on it or under it", () => {
    const c = loadConfig({ WEBAUTHN_RP_ID: "example.com", WEBAUTHN_RP_NAME: "Example", WEBAUTHN_ORIGINS: "https://example.com, https://Login.example.com:8443" });
    expect(c.webauthn).toStrictEqual({ rpId: "example.com", rpName: "Example", origins: ["https://example.com", "https://login.example.com:8443"] });
    expect(loadConfig({ WEBAUTHN_ORIGINS: "http://localhost:5173" }).webauthn.origins).toStrictEqual(["http://localhost:5173"]);
  });

  it.each([
    [{ WEBAUTHN_RP_ID: "10.0.0.1" }, /WEBAUTHN_RP_ID: "10.0.0.1" is not a domain name/],
    [{ WEBAUTHN_RP_ID: "https://example.com" }, /WEBAUTHN_RP_ID: .* is not a domain name/],
    [{ WEBAUTHN_RP_NAME: "x".repeat(65) }, /WEBAUTHN_RP_NAME must be at most 64/],
    [{ WEBAUTHN_RP_ID: "example.com", WEBAUTHN_ORIGINS: "https://example.com/login" }, /WEBAUTHN_ORIGINS: "https:\/\/example.com\/login" is not an origin/],
    [{ WEBAUTHN_RP_ID: "example.com", WEBAUTHN_ORIGINS: "https://evil-example.com" }, /WEBAUTHN_ORIGINS: .* is not on WEBAUTHN_RP_ID "example.com"/],
    [{ WEBAUTHN_RP_ID: "example.com", WEBAUTHN_ORIGINS: "http://example.com" }, /WEBAUTHN_ORIGINS: .* must use https/],
  ])("refuses %o, naming the setting", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
