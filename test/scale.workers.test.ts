// CLUSTER_WORKERS: one port served by N worker processes on a shared PostgreSQL and Redis; a
// worker that dies is replaced while the others keep serving; SIGTERM drains them all.
// Workers need a PostgreSQL server (PGlite lives inside one process): DATABASE_URL, else the
// machine's local server when it answers; the schema is this run's own and dropped after.
import { readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/stores/postgres/database.js";
import { bootstrapFile, COYOTE, post, testEnv, uniqueName } from "./support/service.js";
import { spawnService, type SpawnedService } from "./support/spawn.js";

const METRICS_TOKEN = "workers-metrics-token-0123456789abcdef";
const LOCAL_PG = "postgres://postgres@127.0.0.1:5432/postgres";
const databaseUrl =
  process.env.DATABASE_URL ??
  (await new Promise<string | undefined>((resolve) => {
    const s = net.connect(5432, "127.0.0.1", () => (s.end(), resolve(LOCAL_PG)));
    s.once("error", () => resolve(undefined));
  }));
if (!databaseUrl) console.warn("\n!!! no PostgreSQL server (DATABASE_URL or 127.0.0.1:5432): the CLUSTER_WORKERS tests are SKIPPED !!!\n");

/** Live node child processes of `pid` (not, say, tsx's esbuild), read from /proc. */
function childrenOf(pid: number): number[] {
  const kids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (Number(ppid) === pid && state !== "Z" && comm === "node") kids.push(Number(entry));
    } catch {
      // the process ended while being read
    }
  }
  return kids.sort();
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`${what}: not reached in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50)); // polling a process we started, bounded
  }
}

describe.skipIf(!databaseUrl)("CLUSTER_WORKERS=2", () => {
  const schema = uniqueName("workers");
  let svc: SpawnedService | undefined;
  afterAll(async () => {
    svc?.child.kill("SIGKILL");
    const db = await openDatabase({ url: databaseUrl, dataDir: "", schema });
    await db.query(`DROP SCHEMA ${schema} CASCADE`).finally(() => db.close());
  });

  it("serves from two workers, replaces a killed one while the other serves, and drains both on SIGTERM", async () => {
    const env = testEnv({ CLUSTER_WORKERS: "2", DATABASE_URL: databaseUrl!, DATABASE_SCHEMA: schema, LIMIT_IP_REQUESTS: "1000/60", METRICS_PORT: "0", METRICS_TOKEN: METRICS_TOKEN });
    svc = await spawnService({ ...process.env, ...env, SIGNIN_BOOTSTRAP: bootstrapFile({ users: [COYOTE] }) });
    const primary = svc.child.pid!;
    const workers = await until("two workers", () => (childrenOf(primary).length === 2 ? childrenOf(primary) : undefined));
    const signIn = () => post(`${svc!.url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password }).then((r) => r.json);
    expect(await signIn()).toStrictEqual({ ok: true, user: { id: COYOTE.id } });

    process.kill(workers[0]!, "SIGKILL");
    // Meanwhile the other worker answers every request (signIn opens new connections: the killed
    // worker's keep-alive connection died with it).
    const during = await Promise.all(Array.from({ length: 4 }, signIn));
    for (const answer of during) expect(answer.ok).toBe(true);
    const replaced = await until("a replacement worker", () => {
      const now = childrenOf(primary);
      return now.length === 2 && !now.includes(workers[0]!) ? now : undefined;
    });
    expect(replaced).toContain(workers[1]);

    // /metrics answers for all workers together: on the API port (with METRICS_TOKEN) whichever worker
    // takes the scrape, and on METRICS_PORT, which the primary serves.
    const scrape = (url: string) => fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    const successes = async (url: string) => {
      const text = await (await scrape(url)).text();
      const lines = text.split("\n").filter((l) => l.startsWith("signin_decisions_total{") && l.includes('event="sign_in.success"'));
      return lines.reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
    };
    const api = `${svc.url}/metrics`;
    const metricsPort = svc.metricsUrl!;
    expect(metricsPort).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect((await fetch(api)).status).toBe(404); // without the token
    // While the replacement is still loading it cannot answer the aggregation: 503 until then.
    for (let i = 0; (await scrape(api)).status !== 200 || (await scrape(metricsPort)).status !== 200; i++) {
      expect(i).toBeLessThan(200);
      await new Promise((r) => setTimeout(r, 100)); // polling a process we started, bounded
    }
    const before = await successes(api);
    expect(await successes(metricsPort)).toBe(before);
    for (let i = 0; i < 6; i++) expect((await signIn()).ok).toBe(true);
    expect([await successes(api), await successes(api), await successes(metricsPort)]).toStrictEqual([before + 6, before + 6, before + 6]);

    svc.child.kill("SIGTERM");
    expect(await svc.exited).toBe(0);
    expect(replaced.filter((pid) => readdirSync("/proc").includes(String(pid)))).toStrictEqual([]); // the workers are gone too
  }, 60_000);

  it("workers whose primary was killed exit instead of serving on as orphans", async () => {
    const env = testEnv({ CLUSTER_WORKERS: "2", DATABASE_URL: databaseUrl!, DATABASE_SCHEMA: schema });
    svc = await spawnService({ ...process.env, ...env, SIGNIN_BOOTSTRAP: bootstrapFile({ users: [COYOTE] }) });
    const primary = svc.child.pid!;
    const workers = await until("two workers", () => (childrenOf(primary).length === 2 ? childrenOf(primary) : undefined));
    svc.child.kill("SIGKILL");
    await until("the workers gone", () => (workers.every((pid) => !readdirSync("/proc").includes(String(pid))) ? true : undefined));
    await expect(fetch(`${svc.url}/healthz`)).rejects.toThrow();
  }, 60_000);
});
