// Step-up: removing or replacing an ACTIVE second factor needs fresh proof that the caller holds
// it, not just a bearer credential: a session or access token from a sign-in that passed the
// second factor a few minutes ago (or, where the method takes one, the password or a code).
import { fail, ok, type Result } from "../failure.js";

/** How long after a sign-in with a second factor its session or token counts as proof. */
export const STEP_UP_WINDOW_MS = 5 * 60 * 1000;

/** How the credential presented was obtained. */
export interface SignInProof {
  /** The sign-in time (ms); refreshes do not move it. */
  signedInAt: number;
  secondFactor: boolean;
}

/** STEP_UP_REQUIRED unless the credential comes from a recent sign-in that passed a second factor. */
export function stepUp(proof: SignInProof, nowMs: number, windowMs: number = STEP_UP_WINDOW_MS): Result<void> {
  const age = nowMs - proof.signedInAt;
  return proof.secondFactor && age >= 0 && age <= windowMs ? ok(undefined) : fail("STEP_UP_REQUIRED");
}
