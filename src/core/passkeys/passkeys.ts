// Passkeys of the signed-in user: registration (options, then the authenticator's response),
// list, rename, delete. Registering or deleting one changes the account's factors, so both need a
// step-up (see step-up-proof.ts); the registration challenge is random, single-use (taken from the
// short-lived store before it is checked) and lives 5 minutes.
import { randomBytes } from "node:crypto";
import type {
  AuthenticatorTransportFuture,
  PublicKeyCredentialCreationOptionsJSON,
  RegistrationResponseJSON,
  VerifiedRegistrationResponse,
} from "@simplewebauthn/server";
import { webauthn } from "./webauthn.js";
import type { Account } from "../accounts/account.js";
import type { Audit } from "../audit.js";
import type { Clock } from "../clock.js";
import type { EphemeralStore } from "../ephemeral.js";
import { fail, ok, type Result } from "../failure.js";
import type { RequestContext } from "../request-context.js";
import type { Revocations } from "../sessions/revocations.js";
import type { Caller } from "../sessions/sessions.js";
import type { Passkey, PasskeyStore } from "./passkey.js";
import type { StepUpProof } from "./step-up-proof.js";

export const CHALLENGE_TTL_MS = 5 * 60 * 1000;
const MAX_PASSKEYS = 20;
const MAX_NAME = 64;

export interface RelyingParty {
  rpId: string;
  rpName: string;
  /** Origins the pages run on; a function because the service's own is known once it listens. */
  origins: () => string[];
}

/** What the owner sees of a passkey. */
export type PasskeyInfo = Pick<Passkey, "id" | "name" | "aaguid" | "transports" | "createdAt" | "lastUsedAt">;

export class Passkeys {
  constructor(
    private readonly store: PasskeyStore,
    private readonly ephemeral: EphemeralStore,
    private readonly rp: RelyingParty,
    private readonly stepUp: StepUpProof,
    private readonly revocations: Revocations,
    private readonly audit: Audit,
    private readonly clock: Clock,
    /** Told after a passkey is deleted (the recovery codes go with the last factor). */
    private readonly afterRemoved: (account: Account) => Promise<void> = async () => {},
  ) {}

  /** Creation options for the browser; the caller proves the step-up (password, or a recent sign-in with a second factor). */
  async registrationOptions(ctx: RequestContext, caller: Caller, password?: string): Promise<Result<PublicKeyCredentialCreationOptionsJSON>> {
    const proven = await this.stepUp.prove(ctx, caller, password);
    if (!proven.ok) return proven;
    const { account } = caller;
    const existing = await this.store.list(account.id);
    if (existing.length >= MAX_PASSKEYS) return fail("INVALID_REQUEST", { message: `At most ${MAX_PASSKEYS} passkeys per account` });
    const options = await (await webauthn()).generateRegistrationOptions({
      rpName: this.rp.rpName,
      rpID: this.rp.rpId,
      userName: account.email ?? account.username,
      userDisplayName: account.fullName || account.username,
      // The user handle a discoverable credential returns at sign-in: the account id, nothing personal.
      userID: new Uint8Array(Buffer.from(account.id)),
      excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports as AuthenticatorTransportFuture[] })),
      // Discoverable, so that the same passkey also signs in without a password.
      authenticatorSelection: { residentKey: "required", userVerification: "preferred" },
      timeout: CHALLENGE_TTL_MS,
    });
    // The end is kept with it too: the store's TTL runs on its own clock, the decision on ours.
    const pending: PendingChallenge = { challenge: options.challenge, endsAt: this.clock.now() + CHALLENGE_TTL_MS };
    await this.ephemeral.set(registrationKey(account.id), JSON.stringify(pending), CHALLENGE_TTL_MS);
    return ok(options);
  }

  /** The authenticator's response to the last options; the challenge is spent whatever the outcome. */
  async register(ctx: RequestContext, caller: Caller, responseJson: string, name: string): Promise<Result<PasskeyInfo>> {
    const { account } = caller;
    const taken = parseJson<PendingChallenge>((await this.ephemeral.take(registrationKey(account.id))) ?? "");
    const challenge = taken && taken.endsAt > this.clock.now() ? taken.challenge : null;
    const response = parseJson<RegistrationResponseJSON>(responseJson);
    if (!challenge) return fail("FACTOR_NOT_FOUND", { message: "No pending passkey registration (ask for options first; they live 5 minutes and serve once)" });
    if (!response) return invalidResponse();
    let verified: VerifiedRegistrationResponse;
    const { verifyRegistrationResponse } = await webauthn(); // outside the try: not loading it is our failure, not the caller's
    try {
      verified = await verifyRegistrationResponse({ response, expectedChallenge: challenge, expectedOrigin: this.rp.origins(), expectedRPID: this.rp.rpId, requireUserVerification: false });
    } catch {
      return invalidResponse();
    }
    if (!verified.verified) return invalidResponse();
    const { credential, aaguid } = verified.registrationInfo;
    const passkey = {
      id: randomBytes(12).toString("hex"),
      accountId: account.id,
      credentialId: credential.id,
      publicKey: credential.publicKey,
      counter: credential.counter,
      transports: credential.transports ?? [],
      aaguid,
      name: cleanName(name) || "Passkey",
      createdAt: new Date(this.clock.now()),
    };
    if (!(await this.store.add(passkey))) return fail("FACTOR_ALREADY_EXISTS", { message: "This passkey is registered already" });
    this.audit.record(ctx, { event: "passkey.registered", appId: account.appId, accountId: account.id });
    return ok(info({ ...passkey, lastUsedAt: null }));
  }

  async list(caller: Caller): Promise<PasskeyInfo[]> {
    return (await this.store.list(caller.account.id)).map(info);
  }

  async rename(caller: Caller, id: string, name: string): Promise<Result<void>> {
    const clean = cleanName(name);
    if (!clean) return fail("INVALID_REQUEST", { message: `"name" must be 1 to ${MAX_NAME} characters`, fieldViolations: [{ field: "name", description: "required", kind: "missing" }] });
    return (await this.store.rename(caller.account.id, id, clean)) ? ok(undefined) : fail("FACTOR_NOT_FOUND", { message: "Passkey not found" });
  }

  /**
   * Deletes a passkey on a step-up, as any factor removal (stricter than asking only for the last
   * factor): every other session of the account ends, the caller's stays.
   */
  async remove(ctx: RequestContext, caller: Caller, id: string, password?: string): Promise<Result<void>> {
    const proven = await this.stepUp.prove(ctx, caller, password);
    if (!proven.ok) return proven;
    const { account, session } = caller;
    if (!(await this.store.remove(account.id, id))) return fail("FACTOR_NOT_FOUND", { message: "Passkey not found" });
    await this.revocations.revokeAll(account.id, session.chain);
    await this.afterRemoved(account);
    this.audit.record(ctx, { event: "passkey.removed", appId: account.appId, accountId: account.id });
    return ok(undefined);
  }
}

interface PendingChallenge {
  challenge: string;
  endsAt: number;
}

const registrationKey = (accountId: string) => `passkey:registration:${accountId}`;

const invalidResponse = <T>(): Result<T> => fail("INVALID_ENROLLMENT_CODE", { message: "Invalid passkey response (wrong challenge, origin or signature)" });

function cleanName(name: string): string {
  return [...name.trim().replace(/\s+/g, " ")].slice(0, MAX_NAME).join("");
}

function info(p: Passkey): PasskeyInfo {
  return { id: p.id, name: p.name, aaguid: p.aaguid, transports: p.transports, createdAt: p.createdAt, lastUsedAt: p.lastUsedAt };
}

/** The browser's JSON; null when it is not an object. */
export function parseJson<T>(text: string): T | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as T) : null;
  } catch {
    return null;
  }
}
