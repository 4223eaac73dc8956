// Passkey assertions at sign-in: request options with a fresh challenge (random, single-use,
// 5 minutes; taken from the short-lived store before the signature is checked, so an assertion
// cannot be replayed and one made for another challenge finds nothing), the signature checked
// with @simplewebauthn/server, and the signature counter saved only when it moves forward: a
// lower or equal one (a cloned authenticator, or a replay) is refused and audited.
import type {
  AuthenticationResponseJSON,
  AuthenticatorTransportFuture,
  PublicKeyCredentialRequestOptionsJSON,
  VerifiedAuthenticationResponse,
} from "@simplewebauthn/server";
import { webauthn } from "./webauthn.js";
import type { Audit } from "../audit.js";
import type { Clock } from "../clock.js";
import type { EphemeralStore } from "../ephemeral.js";
import { ok, type Result } from "../failure.js";
import { tooMany, type SignInLimits } from "../limits/sign-in-limits.js";
import type { RequestContext } from "../request-context.js";
import type { CodeOutcome } from "../sign-in/second-factor.js";
import type { PasskeyStore } from "./passkey.js";
import { CHALLENGE_TTL_MS, parseJson, type RelyingParty } from "./passkeys.js";

/** An assertion's outcome, and whose passkey made it when it passed. */
export interface Asserted {
  outcome: CodeOutcome;
  accountId?: string;
}

export interface AssertionCheck {
  /** The account the assertion must be for (second factor); absent = whoever's passkey it is (passwordless). */
  accountId?: string;
  /** Passwordless: the authenticator must have verified the user (PIN, biometrics), which makes it two factors. */
  userVerification: boolean;
  appId: string;
}

export class PasskeyAssertions {
  constructor(
    private readonly store: PasskeyStore,
    private readonly ephemeral: EphemeralStore,
    private readonly rp: RelyingParty,
    private readonly audit: Audit,
    private readonly clock: Clock,
    private readonly limits: SignInLimits,
  ) {}

  /** Every challenge asked for and every passwordless assertion counts as a sign-in request of its IP and app. */
  async allowed(ctx: RequestContext, appId: string): Promise<Result<void>> {
    const verdict = await this.limits.checkRequest(ctx.ip, appId);
    return verdict.limited ? { ok: false, failure: tooMany(verdict) } : ok(undefined);
  }

  /** Whether the account has a passkey (WEBAUTHN is then one of its second factors). */
  async has(accountId: string): Promise<boolean> {
    return (await this.store.list(accountId)).length > 0;
  }

  /**
   * Request options for navigator.credentials.get. No credential is listed: registered passkeys are
   * discoverable, and listing an account's would tell who has one.
   */
  async options(ctx: RequestContext, appId: string): Promise<Result<PublicKeyCredentialRequestOptionsJSON>> {
    const allowed = await this.allowed(ctx, appId);
    if (!allowed.ok) return allowed;
    const options = await (await webauthn()).generateAuthenticationOptions({ rpID: this.rp.rpId, userVerification: "preferred", timeout: CHALLENGE_TTL_MS });
    await this.ephemeral.set(challengeKey(options.challenge), String(this.clock.now() + CHALLENGE_TTL_MS), CHALLENGE_TTL_MS);
    return ok(options);
  }

  async verify(ctx: RequestContext, responseJson: string, check: AssertionCheck): Promise<Asserted> {
    const response = parseJson<AuthenticationResponseJSON>(responseJson);
    const challenge = response && challengeOf(response);
    if (!response || !challenge || typeof response.id !== "string") return { outcome: "invalid" };
    // Spent before anything else is looked at: whatever follows, this challenge served once.
    const endsAt = Number(await this.ephemeral.take(challengeKey(challenge)));
    if (!(endsAt > this.clock.now())) return { outcome: "replayed" };
    const passkey = await this.store.findByCredentialId(response.id);
    if (!passkey || (check.accountId !== undefined && passkey.accountId !== check.accountId)) return { outcome: "invalid" };
    let info: VerifiedAuthenticationResponse["authenticationInfo"];
    const { verifyAuthenticationResponse } = await webauthn(); // outside the try: not loading it is our failure, not the caller's
    try {
      // The stored counter is not given: this module compares it (below), so a clone is told from a bad signature.
      const verified = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: this.rp.origins(),
        expectedRPID: this.rp.rpId,
        credential: { id: passkey.credentialId, publicKey: passkey.publicKey, counter: 0, transports: passkey.transports as AuthenticatorTransportFuture[] },
        requireUserVerification: check.userVerification,
      });
      if (!verified.verified) return { outcome: "invalid" };
      info = verified.authenticationInfo;
    } catch {
      return { outcome: "invalid" };
    }
    const saved = await this.store.used(passkey.id, info.newCounter, new Date(this.clock.now()));
    if (saved === "not_increasing") {
      this.audit.record(ctx, { event: "passkey.counter_not_increasing", appId: check.appId, accountId: passkey.accountId, reason: `${info.newCounter}<=${passkey.counter}` });
      return { outcome: "replayed" };
    }
    return saved === "saved" ? { outcome: "ok", accountId: passkey.accountId } : { outcome: "invalid" };
  }
}

const challengeKey = (challenge: string) => `passkey:challenge:${challenge}`;

/** The challenge the browser signed, from clientDataJSON; null when it cannot be read. */
function challengeOf(response: AuthenticationResponseJSON): string | null {
  const clientData = typeof response.response?.clientDataJSON === "string" ? parseJson<{ challenge?: unknown }>(Buffer.from(response.response.clientDataJSON, "base64url").toString()) : null;
  return typeof clientData?.challenge === "string" && /^[A-Za-z0-9_-]{16,128}$/.test(clientData.challenge) ? clientData.challenge : null;
}
