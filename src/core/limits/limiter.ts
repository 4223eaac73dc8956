// The limiter the core's limits are built from: a counter of points per key over a window,
// which can also block a key for a while. rate-limiter-flexible implements it on Redis (shared
// by all instances) and in memory (embedded default); see stores/*/limiters.ts.
export interface LimiterState {
  /** Points consumed in the current window. */
  consumed: number;
  /** Milliseconds until the window resets (or the block ends). */
  msBeforeNext: number;
}

export interface Limiter {
  readonly points: number;
  /**
   * Counts `points` for the key; `limited` when that goes over the limit (or the key is blocked).
   * `seconds`: the window, when the key starts one, instead of the limiter's.
   */
  consume(key: string, points?: number, seconds?: number): Promise<LimiterState & { limited: boolean }>;
  /** Gives a point back (e.g. for an action that did not happen after all). */
  reward(key: string): Promise<void>;
  /** The current state without counting; null when nothing is counted for the key. */
  get(key: string): Promise<LimiterState | null>;
  /** Blocks the key for `seconds` (consume and get then report it as over the limit). */
  block(key: string, seconds: number): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface LimiterSpec {
  /** Distinguishes the counters in the store. */
  name: string;
  points: number;
  durationSeconds: number;
}

export type LimiterFactory = (spec: LimiterSpec) => Limiter;

/** "N/S": N points per S seconds. */
export interface Rate {
  points: number;
  seconds: number;
}
