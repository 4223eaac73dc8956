// Apps are read on every sign-in and change rarely: a short-lived in-process cache in front of
// the AppStore saves a database round trip per request. A change takes effect within `ttlMs`.
import type { App, AppStore, NewApp } from "../core/apps/app.js";

export class CachedAppStore implements AppStore {
  private readonly entries = new Map<string, { app: Promise<App | null>; until: number }>();

  constructor(
    private readonly inner: AppStore,
    private readonly ttlMs: number,
  ) {}

  findById(id: string): Promise<App | null> {
    return this.cached(`id:${id}`, () => this.inner.findById(id));
  }

  findByTokenHash(tokenHash: string): Promise<App | null> {
    return this.cached(`token:${tokenHash}`, () => this.inner.findByTokenHash(tokenHash));
  }

  list(): Promise<App[]> {
    return this.inner.list();
  }

  async upsert(app: NewApp): Promise<App> {
    this.entries.clear();
    return this.inner.upsert(app);
  }

  private cached(key: string, load: () => Promise<App | null>): Promise<App | null> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.app;
    const app = load();
    this.entries.set(key, { app, until: now + this.ttlMs });
    app.catch(() => this.entries.delete(key)); // errors are not cached
    if (this.entries.size > 10_000) this.entries.clear(); // unknown tokens must not grow it without bound
    return app;
  }
}
