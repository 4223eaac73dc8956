// Bounded hashing: at most `concurrency` argon2 operations run at once and at most `maxQueued`
// wait; beyond that the caller is told at once that the service is busy (retryable), so memory
// stays bounded (each argon2id verify holds m KiB) under any load.
export class HashPoolBusy extends Error {}

export class HashPool {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly concurrency: number,
    readonly maxQueued: number,
  ) {}

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.concurrency) {
      if (this.waiting.length >= this.maxQueued) throw new HashPoolBusy("password hashing queue is full");
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else this.active--;
    }
  }
}
