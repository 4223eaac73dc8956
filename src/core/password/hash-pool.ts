// Bounded hashing: at most `concurrency` operations (argon2, imported bcrypt) run at once and at most `maxQueued`
// wait; beyond that the caller is told at once that the service is busy (retryable), so memory
// stays bounded (each argon2id verify holds m KiB) under any load. Suspect callers (recent
// failures from their IP or on the account) get only half the queue and wait behind everyone
// else, so a flood cannot starve clean sign-ins of hashing capacity.
import type { Spans } from "../spans.js";

export class HashPoolBusy extends Error {}

export type Priority = "normal" | "low";

export class HashPool {
  private active = 0;
  private readonly waiting: Record<Priority, Array<() => void>> = { normal: [], low: [] };

  /** Told how long each operation took (seconds), for metrics. */
  onDuration: (seconds: number) => void = () => {};
  /** Tracing: the wait for a slot (when there is one) and the hash, each in a span. */
  spans: Spans | null = null;

  constructor(
    readonly concurrency: number,
    readonly maxQueued: number,
  ) {}

  get queued(): number {
    return this.waiting.normal.length + this.waiting.low.length;
  }

  async run<T>(work: () => Promise<T>, priority: Priority = "normal"): Promise<T> {
    if (this.active >= this.concurrency) {
      const room = priority === "normal" ? this.maxQueued : Math.floor(this.maxQueued / 2);
      if (this.queued >= room) throw new HashPoolBusy("password hashing queue is full");
      const wait = () => new Promise<void>((resolve) => this.waiting[priority].push(resolve));
      await (this.spans ? this.spans.run("password.hash_wait", wait) : wait());
    } else {
      this.active++;
    }
    const started = performance.now();
    try {
      return await (this.spans ? this.spans.run("password.hash", work) : work());
    } finally {
      this.onDuration((performance.now() - started) / 1000);
      const next = this.waiting.normal.shift() ?? this.waiting.low.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else this.active--;
    }
  }
}
