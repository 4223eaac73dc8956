// Apps are read on every sign-in and change rarely: a cache in front of the AppStore saves a
// database query per request; a change applies on every instance at once (see ReadCache).
import type { App, AppStore, NewApp } from "../core/apps/app.js";
import type { EphemeralStore } from "../core/ephemeral.js";
import { ReadCache } from "./read-cache.js";

export class CachedAppStore implements AppStore {
  private readonly cache: ReadCache<App | null>;

  constructor(
    private readonly inner: AppStore,
    shared: EphemeralStore,
    ttlMs: number,
    now?: () => number,
  ) {
    // Bounded: unknown app tokens are cached as misses.
    this.cache = new ReadCache(shared, "apps", ttlMs, 10_000, now);
  }

  findById(id: string): Promise<App | null> {
    return this.cache.get(`id:${id}`, () => this.inner.findById(id));
  }

  findByTokenHash(tokenHash: string): Promise<App | null> {
    return this.cache.get(`token:${tokenHash}`, () => this.inner.findByTokenHash(tokenHash));
  }

  list(): Promise<App[]> {
    return this.inner.list();
  }

  upsert(app: NewApp): Promise<App> {
    return this.cache.write(() => this.inner.upsert(app));
  }
}
