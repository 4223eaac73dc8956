// In-process EphemeralStore for the embedded default (one instance, nothing installed).
// Same semantics as the Redis store; expiry follows the injected clock.
import type { Clock } from "../../core/clock.js";
import type { EphemeralStore } from "../../core/ephemeral.js";

interface Entry {
  value: string;
  expiresAt: number;
}

const SWEEP_INTERVAL_MS = 60_000;

export class MemoryEphemeralStore implements EphemeralStore {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly clock: Clock) {
    // Expired entries are also dropped on read; the sweep bounds memory for keys never read again.
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();
  }

  async get(key: string): Promise<string | null> {
    return this.live(key)?.value ?? null;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.entries.set(key, { value, expiresAt: this.clock.now() + ttlMs });
  }

  async take(key: string): Promise<string | null> {
    const entry = this.live(key);
    this.entries.delete(key);
    return entry?.value ?? null;
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async advance(key: string, value: number, ttlMs: number): Promise<boolean> {
    const current = this.live(key);
    if (current && Number(current.value) >= value) return false;
    this.entries.set(key, { value: String(value), expiresAt: this.clock.now() + ttlMs });
    return true;
  }

  async pushCapped(key: string, value: string, max: number, ttlMs: number): Promise<void> {
    const items = [value, ...(await this.list(key))].slice(0, max);
    this.entries.set(key, { value: JSON.stringify(items), expiresAt: this.clock.now() + ttlMs });
  }

  async list(key: string): Promise<string[]> {
    const entry = this.live(key);
    return entry ? (JSON.parse(entry.value) as string[]) : [];
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    const current = this.live(key);
    const n = (current ? Number(current.value) : 0) + 1;
    this.entries.set(key, { value: String(n), expiresAt: current?.expiresAt ?? this.clock.now() + ttlMs });
    return n;
  }

  async replace(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (!this.live(key)) return false;
    await this.set(key, value, ttlMs);
    return true;
  }

  async addMember(key: string, member: string, endsAtMs: number, nowMs: number, max: number): Promise<void> {
    const set = this.memberEnds(key, nowMs);
    set[member] = endsAtMs;
    // Over the cap, those ending first go (as the Redis store's sorted set does).
    const kept = Object.entries(set).sort(([, a], [, b]) => b - a).slice(0, max);
    const last = Math.max(...kept.map(([, end]) => end));
    this.entries.set(key, { value: JSON.stringify(Object.fromEntries(kept)), expiresAt: this.clock.now() + Math.max(1, last - nowMs) });
  }

  async members(key: string, nowMs: number): Promise<string[]> {
    return Object.keys(this.memberEnds(key, nowMs));
  }

  async removeMember(key: string, member: string): Promise<void> {
    const entry = this.live(key);
    if (!entry) return;
    const set = JSON.parse(entry.value) as Record<string, number>;
    delete set[member];
    entry.value = JSON.stringify(set);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.entries.clear();
  }

  /** The set's members with their ends, those ended by `nowMs` left out. */
  private memberEnds(key: string, nowMs: number): Record<string, number> {
    const entry = this.live(key);
    const set = entry ? (JSON.parse(entry.value) as Record<string, number>) : {};
    return Object.fromEntries(Object.entries(set).filter(([, end]) => end > nowMs));
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
