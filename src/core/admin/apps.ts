// Apps as operators manage them: create (the spec rules, a new token, its key pair), update, list,
// rotate the app token or a signing key. The bootstrap file stores its apps through saveApp too.
import { randomBytes } from "node:crypto";
import type { App, AppStore, NewApp } from "../apps/app.js";
import { fail, ok, type Result } from "../failure.js";
import type { AppKeys } from "../tokens/app-tokens.js";
import type { KeyRing } from "../tokens/key-ring.js";
import { appFromSpec, appSpecViolations, type AppSpec } from "./app-spec.js";
import { invalid } from "./invalid.js";

export interface AppAdminDeps {
  apps: AppStore;
  appKeys: AppKeys;
  /** The service's own key (session tokens, access tokens). */
  serviceKeys: KeyRing;
  /** How long the previous service key keeps verifying after a rotation. */
  serviceKeyGraceMs: number;
  /** The app meant when a request names none. */
  defaultAppId: string;
}

/** The fields an update may change; absent ones keep their value. */
export type AppPatch = Pick<Partial<AppSpec>, "name" | "status" | "twoFactor" | "realmAppId" | "jwtExpirationHours" | "rememberDeviceDays">;

/** Stores an app and makes sure its RS256 key pair exists, so its users' JWTs can be signed from the start. */
export async function saveApp(deps: Pick<AppAdminDeps, "apps" | "appKeys">, app: NewApp): Promise<App> {
  const saved = await deps.apps.upsert(app);
  await deps.appKeys.ring(saved.id);
  return saved;
}

export class AppAdmin {
  constructor(private readonly deps: AppAdminDeps) {}

  /** The id a request means: the default app when it names none. */
  idOf(id: string | undefined): string {
    return id || this.deps.defaultAppId;
  }

  async find(id: string | undefined): Promise<Result<App>> {
    const app = await this.deps.apps.findById(this.idOf(id));
    return app ? ok(app) : fail("APP_NOT_FOUND", { message: `app "${this.idOf(id)}" not found` });
  }

  list(): Promise<App[]> {
    return this.deps.apps.list();
  }

  /** A new app; its token is returned only now (the store keeps a hash). */
  async create(spec: AppSpec): Promise<Result<{ app: App; appToken: string }>> {
    const appToken = newAppToken();
    // "app." because the admin request carries the spec as its `app` field.
    const app = appFromSpec(spec, appToken, "app.");
    if (!app.ok) return app;
    if (await this.deps.apps.findById(spec.id)) return fail("APP_ALREADY_EXISTS", { message: `app "${spec.id}" exists` });
    return ok({ app: await saveApp(this.deps, app.value), appToken });
  }

  /** The app as it is now and as it was, so the caller can say what changed. */
  async update(id: string, patch: AppPatch): Promise<Result<{ app: App; previous: App }>> {
    const current = await this.find(id);
    if (!current.ok) return current;
    const violations = appSpecViolations(patch);
    if (violations.length > 0) return invalid(violations);
    const previous = current.value;
    const app = await this.store({
      ...previous,
      name: patch.name ?? previous.name,
      status: (patch.status ?? previous.status) as App["status"],
      twoFactor: (patch.twoFactor ?? previous.twoFactor) as App["twoFactor"],
      realmAppId: patch.realmAppId ?? previous.realmAppId,
      jwtExpirationHours: patch.jwtExpirationHours ?? previous.jwtExpirationHours,
      rememberDeviceDays: patch.rememberDeviceDays ?? previous.rememberDeviceDays,
    });
    return ok({ app, previous });
  }

  /** A new app token (returned only now); the old one stops working. */
  async rotateToken(id: string): Promise<Result<string>> {
    const app = await this.find(id);
    if (!app.ok) return app;
    const appToken = newAppToken();
    await this.store(app.value, appToken);
    return ok(appToken);
  }

  /** A new signing key, of an app or (no id) of the service; the old one verifies what it signed until that expires. */
  async rotateSigningKey(appId: string | undefined): Promise<Result<string>> {
    if (!appId) return ok(await this.deps.serviceKeys.rotate(this.deps.serviceKeyGraceMs));
    const app = await this.find(appId);
    if (!app.ok) return app;
    const ring = await this.deps.appKeys.ring(app.value.id);
    return ok(await ring.rotate(app.value.jwtExpirationHours * 3600 * 1000));
  }

  // An empty token tells the store to keep the current token's hash.
  private store(app: App, appToken = ""): Promise<App> {
    const { tokenHash: _, ...rest } = app;
    return this.deps.apps.upsert({ ...rest, appToken });
  }
}

function newAppToken(): string {
  return randomBytes(32).toString("base64url");
}
