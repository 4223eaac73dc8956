// The one rule for a password someone chooses (admin API, bootstrap file, import in clear): NIST
// 800-63B's length bounds. Sign-in does not apply it, so accounts with older passwords still sign in.
import { normalizePassword } from "./hasher.js";

/** NIST 800-63B 5.1.1.2: at least 8 characters for a password the user chose. */
export const MIN_PASSWORD_LENGTH = 8;
/** The sign-in request's limit (UTF-16 units, as it measures): a longer password could never be typed in. */
export const MAX_PASSWORD_LENGTH = 1024;

export interface PasswordProblem {
  kind: "missing" | "invalid";
  /** Follows the field's name: "must be at least 8 characters". */
  rule: string;
}

/** What is wrong with `password` as a new password, or null when it may be set. */
export function passwordProblem(password: string): PasswordProblem | null {
  if (password === "") return { kind: "missing", rule: "is required" };
  const normalized = normalizePassword(password);
  if (normalized.trim() === "") return { kind: "invalid", rule: "must not be blank" };
  // Code points, as a user counts them: "é" typed composed or decomposed is one character after NFKC.
  if ([...normalized].length < MIN_PASSWORD_LENGTH) return { kind: "invalid", rule: `must be at least ${MIN_PASSWORD_LENGTH} characters` };
  if (password.length > MAX_PASSWORD_LENGTH) return { kind: "invalid", rule: `must be at most ${MAX_PASSWORD_LENGTH} characters` };
  return null;
}
