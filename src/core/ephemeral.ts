// The short-lived state shared by all instances (sessions, pending enrollments,
// one-time-code replay guards): Redis in production, an in-process map otherwise.
// Every operation that guards against a race is a single atomic call.
export interface EphemeralStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Reads and deletes in one step: of two concurrent takes, only one gets the value. */
  take(key: string): Promise<string | null>;
  delete(key: string): Promise<void>;
  /**
   * Stores `value` only when it is greater than the stored number (or none is stored).
   * Returns false when it is not: two concurrent uses of the same TOTP step cannot both pass.
   */
  advance(key: string, value: number, ttlMs: number): Promise<boolean>;
  /** Prepends to a list kept at most `max` long (newest first); the TTL restarts. */
  pushCapped(key: string, value: string, max: number, ttlMs: number): Promise<void>;
  /** The list, newest first. */
  list(key: string): Promise<string[]>;
  /** Adds one and returns the new count; the TTL is set when the counter is created. */
  increment(key: string, ttlMs: number): Promise<number>;
  /** Sets `value` only when `key` exists (never brings a deleted key back); false when it does not. */
  replace(key: string, value: string, ttlMs: number): Promise<boolean>;
  /**
   * Adds `member` to the set at `key`, each member with its own end (`endsAtMs`, in the caller's
   * clock, as `nowMs`): members ended by `nowMs` are dropped, and when the set holds more than `max`,
   * those ending first. The key lives as long as its last member.
   */
  addMember(key: string, member: string, endsAtMs: number, nowMs: number, max: number): Promise<void>;
  /** The members not ended at `nowMs`. */
  members(key: string, nowMs: number): Promise<string[]>;
  removeMember(key: string, member: string): Promise<void>;
  close(): Promise<void>;
}

/** The shared store cannot be reached: requests that need it are refused (fail closed), retryably. */
export class StoreUnavailable extends Error {}
