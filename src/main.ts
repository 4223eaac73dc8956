// Entry point: read the config, start the service, stop cleanly on SIGTERM/SIGINT.
import { ConfigError, ENV_VARS, loadConfig } from "./config.js";
import { BootstrapError } from "./core/bootstrap.js";
import { startService } from "./service.js";

if (process.argv.includes("--help")) {
  console.log("Sign-in service. Configuration (environment variables):\n");
  for (const [name, fallback, meaning] of ENV_VARS) console.log(`  ${name.padEnd(20)} ${meaning}${fallback ? ` (default: ${fallback})` : ""}`);
  process.exit(0);
}

try {
  const config = loadConfig();
  const service = await startService(config);
  console.log(`Sign-in service listening on ${service.url}`);
  const stop = async (signal: string) => {
    console.log(`${signal}: shutting down`);
    await service.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
} catch (err) {
  if (err instanceof ConfigError || err instanceof BootstrapError) console.error(`Configuration error: ${err.message}`);
  else console.error(`Start-up failed: ${(err as Error).message}`);
  process.exit(1);
}
