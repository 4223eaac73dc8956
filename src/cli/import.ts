// `signin import <file>`: streams a JSON-lines file of accounts to the AdminService in batches
// (100k accounts never sit in memory at once), with a progress bar and a per-line summary.
import type { Client } from "@connectrpc/connect";
import { createReadStream, statSync } from "node:fs";
import { createInterface } from "node:readline";
import type { AdminService, ImportRecord } from "../../gen/signin/admin/v1/admin_pb.js";

const MAX_BATCH_BYTES = 32 * 1024;

type Init = Partial<Omit<ImportRecord, "$typeName" | "line">> & { line: bigint };

export async function importFile(
  client: Client<typeof AdminService>,
  file: string,
  opts: { app?: string; json?: boolean; batch: number },
): Promise<void> {
  const size = statSync(file).size;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  const counts = { created: 0, updated: 0, failed: 0 };
  const failures: Array<{ line: number; reason: string }> = [];
  let batch: Init[] = [];
  let batchBytes = 0;
  let bytes = 0;
  let lineNo = 0;

  const send = async () => {
    if (batch.length === 0) return;
    const { results } = await client.importAccounts({ records: batch });
    batch = [];
    batchBytes = 0;
    for (const r of results) {
      counts[r.outcome as keyof typeof counts]++;
      if (r.outcome === "failed") failures.push({ line: Number(r.line), reason: r.reason });
    }
    progress();
  };
  const progress = () => {
    if (opts.json || !process.stderr.isTTY) return;
    const done = size ? bytes / size : 1;
    const bar = "#".repeat(Math.round(done * 30)).padEnd(30, ".");
    process.stderr.write(`\r[${bar}] ${Math.round(done * 100)}%  ${lineNo} lines: ${counts.created} created, ${counts.updated} updated, ${counts.failed} failed`);
  };

  for await (const text of lines) {
    lineNo++;
    bytes += Buffer.byteLength(text) + 1;
    if (!text.trim()) continue;
    const record = parseLine(text, lineNo, opts.app);
    if ("reason" in record) {
      counts.failed++;
      failures.push(record);
    } else {
      batch.push(record);
      batchBytes += Buffer.byteLength(text);
    }
    // Requests stay well under the service's MAX_BODY_BYTES (64 KiB by default).
    if (batch.length >= opts.batch || batchBytes >= MAX_BATCH_BYTES) await send();
  }
  await send();
  if (!opts.json && process.stderr.isTTY) process.stderr.write("\n");

  if (opts.json) console.log(JSON.stringify({ ...counts, failures }));
  else {
    console.log(`import of ${file}: ${counts.created} created, ${counts.updated} updated, ${counts.failed} failed`);
    for (const f of failures) console.log(`  line ${f.line}: ${f.reason}`);
  }
  if (counts.failed > 0) process.exitCode = 1;
}

function parseLine(text: string, line: number, app: string | undefined): Init | { line: number; reason: string } {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(text);
  } catch {
    return { line, reason: "not valid JSON" };
  }
  if (typeof r !== "object" || r === null || Array.isArray(r)) return { line, reason: "not a JSON object" };
  const str = (k: string) => (typeof r[k] === "string" ? (r[k] as string) : undefined);
  return {
    line: BigInt(line),
    appId: str("app") ?? app,
    id: str("id"),
    username: str("username") ?? str("handle") ?? "",
    email: str("email") ?? (str("handle")?.includes("@") ? str("handle") : undefined),
    passwordHash: str("passwordHash"),
    password: str("password"),
    fullName: str("fullName"),
    metadata: typeof r.metadata === "object" && r.metadata !== null ? (r.metadata as never) : undefined,
    deactivated: r.deactivated === true || r.status === "suspended",
  };
}
