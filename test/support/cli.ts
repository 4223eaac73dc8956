// Runs the `signin` admin CLI against a service, as an operator would.
import { spawn } from "node:child_process";

export const ADMIN_TOKEN = "admin-token-for-tests-0123456789abcdef";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  json: () => any;
}

// Asynchronous: a synchronous run would freeze this process's timers, and fetch would then reuse a
// keep-alive connection the service has already closed ("other side closed").
export function cli(url: string, ...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/signin.ts", ...args], { env: { ...process.env, SIGNIN_URL: url, ADMIN_TOKEN } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) }));
  });
}
