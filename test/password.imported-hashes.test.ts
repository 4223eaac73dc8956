// Imported hashes name their own cost: above the caps (bcrypt cost 14; argon2 m=64 MiB, t=10, p=4)
// they are refused at import and never verified at sign-in, where a row stored earlier costs what an
// unknown account does. bcrypt is verified off the event loop.
import { hash as argon2 } from "@node-rs/argon2";
import { hash as bcrypt } from "@node-rs/bcrypt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HASH_CAPS } from "../src/core/password/hasher.js";
import { adminCore, value } from "./support/admin-core.js";

const ARGON2ID = 2 as never;
// A well-formed bcrypt hash with another cost (the cost is two digits after the version).
const withCost = (bcryptHash: string, cost: number) => bcryptHash.replace(/^\$(2[aby])\$\d\d\$/, (_, v: string) => `$${v}$${String(cost).padStart(2, "0")}$`);
const withArgon2 = (argon2Hash: string, m: number, t: number, p: number) => argon2Hash.replace(/m=\d+,t=\d+,p=\d+/, `m=${m},t=${t},p=${p}`);

describe("imported hashes", () => {
  let core: Awaited<ReturnType<typeof adminCore>>;
  let cheapBcrypt: string;
  let cheapArgon2: string;
  beforeAll(async () => {
    core = await adminCore();
    cheapBcrypt = await bcrypt("imported-pw", 4);
    cheapArgon2 = await argon2("imported-pw", { algorithm: ARGON2ID, memoryCost: 1024, timeCost: 1, parallelism: 1 });
  });
  afterAll(() => core?.close());

  it("a hash above the caps is refused at import with the parameter and its maximum; at the caps it is imported", async () => {
    const { bcryptCost, argon2MemoryKiB: m, argon2Iterations: t, argon2Parallelism: p } = HASH_CAPS;
    const lines = [
      withCost(cheapBcrypt, 31),
      withArgon2(cheapArgon2, 4 * 1024 * 1024, 1, 1), // 4 GiB
      withArgon2(cheapArgon2, 1024, 11, 1),
      withArgon2(cheapArgon2, 1024, 1, 5),
      withCost(cheapBcrypt, bcryptCost),
      withArgon2(cheapArgon2, m, t, p),
    ].map((passwordHash, i) => ({ line: i + 1, username: `imported-${i}`, passwordHash }));
    const results = value(await core.admin.accounts.import(lines));
    expect(results.map((r) => r.reason ?? r.outcome)).toStrictEqual([
      "passwordHash has bcrypt cost 31, above the maximum of 14",
      "passwordHash has argon2 memory (m, KiB) 4194304, above the maximum of 65536",
      "passwordHash has argon2 iterations (t) 11, above the maximum of 10",
      "passwordHash has argon2 parallelism (p) 5, above the maximum of 4",
      "created",
      "created",
    ]);
    expect(await core.accounts.findByLogin("default", "imported-0")).toBeNull();
  });

  it("a row stored before the caps is never verified with its own parameters: the right password does not match", async () => {
    // t=11, cheap otherwise: verified as is, it would match.
    const stored = await argon2("imported-pw", { algorithm: ARGON2ID, memoryCost: 1024, timeCost: 11, parallelism: 1 });
    expect(await core.hasher.verify(stored, "imported-pw")).toStrictEqual({ ok: false, needsRehash: false });
    // Verified as is, cost 31 would hold a thread for days; it answers like an unknown account.
    expect(await core.hasher.verify(withCost(cheapBcrypt, 31), "imported-pw")).toStrictEqual({ ok: false, needsRehash: false });
    expect(await core.hasher.verify(cheapBcrypt, "imported-pw")).toStrictEqual({ ok: true, needsRehash: true });
  });

  it("a bcrypt verify leaves the event loop free: it turns thousands of times during a cost-12 verify", async () => {
    const cost12 = await bcrypt("imported-pw", 12);
    let turns = 0;
    let spinning = true;
    const spin = () => {
      turns++;
      if (spinning) setImmediate(spin);
    };
    spin();
    const outcome = await core.hasher.verify(cost12, "imported-pw");
    spinning = false;
    expect(outcome).toStrictEqual({ ok: true, needsRehash: true });
    // On the event loop (bcryptjs yields every 100 ms of work) this counts a handful of turns.
    expect(turns).toBeGreaterThan(1000);
  });
});
