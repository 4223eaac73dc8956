// The public keys other services verify our tokens with: the service's session keys and the
// RS256 keys of every app that is not deleted. Served from memory: built at most once per
// JWKS_TTL_MS (listing the apps is a database query), and again at once when a key ring of this
// process changes (a rotation, a new app's first key). Other instances' rotations (and app
// deletions) are seen within JWKS_TTL_MS plus KEY_RELOAD_MS; clients cache the answer longer anyway
// (Cache-Control: max-age=300), which is why a rotated key keeps verifying for a grace period.
import type { JWK } from "jose";
import type { AppStore } from "../apps/app.js";
import type { Clock } from "../clock.js";
import type { AppKeys } from "./app-tokens.js";
import { keyChanges, type KeyRing, type KeyStore } from "./key-ring.js";

export const JWKS_TTL_MS = 30_000;

interface Built {
  value: Promise<{ keys: JWK[] }>;
  changes: number;
  until: number;
}

export class Jwks {
  private built: Built | null = null;

  constructor(
    private readonly serviceKeys: KeyRing,
    private readonly appKeys: AppKeys,
    private readonly apps: AppStore,
    /** The store every ring above loads from: its key changes outdate the answer. */
    private readonly keyStore: KeyStore,
    private readonly clock: Clock,
  ) {}

  keys(): Promise<{ keys: JWK[] }> {
    const changes = keyChanges(this.keyStore);
    const now = this.clock.now();
    const b = this.built;
    if (b && b.changes === changes && b.until > now) return b.value;
    // Concurrent requests share one build; a change during the build outdates it (its count is older).
    const value = this.build();
    const built = { value, changes, until: now + JWKS_TTL_MS };
    this.built = built;
    value.catch(() => this.built === built && (this.built = null)); // errors are not kept
    return value;
  }

  private async build(): Promise<{ keys: JWK[] }> {
    const apps = (await this.apps.list()).filter((a) => a.status !== "deleted");
    // Rings reload when older than KEY_RELOAD_MS, picking up rotations made on other instances.
    const rings = await Promise.all([this.serviceKeys, ...(await Promise.all(apps.map((a) => this.appKeys.ring(a.id))))].map((r) => r.fresh()));
    return { keys: rings.flatMap((r) => r.publicJwks()) };
  }
}
