// Which app a request is for: by its `app-token` (hashed, then compared in constant time),
// refused when unknown (400), deleted (401) or suspended (402).
import { fail, type Result } from "../failure.js";
import { appTokenHash, checkApp, sameTokenHash, type App, type AppStore } from "./app.js";

export async function appForToken(apps: AppStore, token: string | null): Promise<Result<App>> {
  if (!token) return fail("INVALID_APP_TOKEN");
  const hash = appTokenHash(token);
  const app = await apps.findByTokenHash(hash);
  // The index lookup compares hashes, which leaks nothing usable about the token; the stored
  // hash is compared once more in constant time before it is trusted.
  if (!app?.tokenHash || !sameTokenHash(app.tokenHash, hash)) return fail("INVALID_APP_TOKEN");
  return checkApp(app);
}
