// What argon2 sees for a password: normalised as typed, or, for apps whose clients send
// md5hex(password) (the Cosync SDKs), that hex string; such apps store argon2id(md5hex).
import { createHash } from "node:crypto";
import type { App } from "../apps/app.js";
import { normalizePassword } from "./hasher.js";

/** How the client sent the password: as typed, or as Cosync clients do, lowercase md5 hex. */
export type PasswordForm = "plain" | "md5hex";

/** A typed password sent to an md5 app is md5'd here first, so one account works on both surfaces. */
export function passwordSecret(app: App, password: string, form: PasswordForm): string {
  if (form === "md5hex") return password.toLowerCase();
  if (app.passwordPrehash === "md5") return createHash("md5").update(password, "utf8").digest("hex");
  return normalizePassword(password);
}
