// An in-process cache of rarely written records (accounts, apps) that stays exact across
// instances: every write bumps a generation counter in the shared store, and every read
// compares it with the generation its entry was loaded under. A read costs one small shared-store
// read (auto-pipelined with the request's other Redis commands) instead of a database query, and
// once a write has returned, no instance serves what it replaced. (Pub/sub invalidation was
// tried first: its messages can arrive after the next request, measured at ~1% of reads.)
import { StoreUnavailable, type EphemeralStore } from "../core/ephemeral.js";

/** Generation counters outlive any entry by far, so a counter that expired and restarted cannot match an old entry. */
const GENERATION_TTL_MS = 7 * 24 * 3600 * 1000;

interface Entry<T> {
  value: Promise<T>;
  generation: string;
  until: number;
}

export class ReadCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly key: string;

  constructor(
    private readonly store: EphemeralStore,
    topic: string,
    private readonly ttlMs: number,
    private readonly maxEntries = 20_000,
    private readonly now: () => number = Date.now,
  ) {
    this.key = `generation:${topic}`;
  }

  async get(key: string, load: () => Promise<T>): Promise<T> {
    let generation: string;
    try {
      generation = (await this.store.get(this.key)) ?? "0";
    } catch {
      return load(); // cannot tell whether an entry is current: the database answers
    }
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.generation === generation && hit.until > now) return hit.value;
    // Pending loads are shared; a load that overlaps a write was tagged with the generation read
    // before it, which the write's bump makes stale.
    const value = load();
    this.entries.delete(key); // re-inserted last: the oldest entries go first when full
    this.entries.set(key, { value, generation, until: now + this.ttlMs });
    value.catch(() => this.entries.get(key)?.value === value && this.entries.delete(key)); // errors are not cached
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }

  /**
   * Runs a write between two bumps of the generation: the first makes sure the shared store is
   * reachable (otherwise nothing is written and the caller gets a retryable StoreUnavailable), the
   * second outdates entries loaded while the write was under way.
   */
  async write<R>(fn: () => Promise<R>): Promise<R> {
    await this.bump();
    try {
      return await fn();
    } finally {
      this.entries.clear();
      await this.bump();
    }
  }

  private async bump(): Promise<void> {
    try {
      await this.store.increment(this.key, GENERATION_TTL_MS);
    } catch (err) {
      throw err instanceof StoreUnavailable ? err : new StoreUnavailable("cannot record a change", { cause: err });
    }
  }
}
