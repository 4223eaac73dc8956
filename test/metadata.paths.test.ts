// A metadata path names where a claim is read in an account's metadata, and, on the CLI, where a
// value is written. "__proto__.x" walked as is reaches Object.prototype: every object of the
// process gains `x`. Such paths ("__proto__", "constructor", "prototype") are refused at every entry
// (admin API, bootstrap file, CLI), and the code that walks paths reads and writes own properties only.
import { spawnSync } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { metadataOf } from "../src/cli/metadata.js";
import { UsageError } from "../src/cli/usage.js";
import { loadConfig } from "../src/config.js";
import { parseBootstrap } from "../src/core/bootstrap.js";
import type { Result } from "../src/core/failure.js";
import { metadataClaims } from "../src/core/tokens/app-tokens.js";
import { startService } from "../src/service.js";
import { adminCore } from "./support/admin-core.js";
import { bootstrapFile, testEnv } from "./support/service.js";

const polluted = () => ({}) as Record<string, unknown>;
const RULE = 'must not use "__proto__", "constructor" or "prototype"';
const failureOf = <T>(r: Result<T>) => (r.ok ? null : r.failure);
let apps = 0;

describe("metadata paths", () => {
  let core: Awaited<ReturnType<typeof adminCore>>;
  beforeAll(async () => (core = await adminCore()));
  afterAll(() => core?.close());
  // A test that fails leaves nothing behind for the next.
  afterEach(() => void delete (Object.prototype as Record<string, unknown>).polluted);

  it.each(["__proto__.polluted", "constructor.prototype.polluted", "user_data.prototype", "user_data.__proto__.polluted"])(
    "an app spec with %s is refused as INVALID_REQUEST naming the field (admin API)",
    async (path) => {
      const spec = { id: `pollute-${++apps}`, metadataFields: [{ path: "user_data.role" }, { path }] };
      const message = `app.metadataFields[1].path ${RULE}`;
      expect(failureOf(await core.admin.apps.create(spec))).toMatchObject({
        reason: "INVALID_REQUEST",
        message,
        fieldViolations: [{ field: "app.metadataFields[1].path", description: message }],
      });
      expect(await core.apps.findById(spec.id)).toBeNull();
    },
  );

  it("a bootstrap file with such a path stops start-up naming the file and the setting", async () => {
    const app = { id: "acme", appToken: "acme-app-token-0123456789", metadataFields: [{ path: "__proto__.polluted" }] };
    expect(() => parseBootstrap(JSON.stringify({ apps: [app] }))).toThrow(`apps[0].metadataFields[0].path ${RULE}`);
    const file = bootstrapFile({ apps: [app] });
    await expect(startService(loadConfig(testEnv({ SIGNIN_BOOTSTRAP: file })))).rejects.toThrow(`SIGNIN_BOOTSTRAP ${file}: apps[0].metadataFields[0].path ${RULE}`);
  });

  it("claims from an app stored before the rule, with such a path, leave Object.prototype alone", () => {
    // JSON.parse makes "__proto__" an own key, as the metadata of an account read back from the database.
    const metadata = JSON.parse('{"__proto__": {"polluted": "yes"}, "user_data": {"role": "admin"}}');
    const fields = [
      { path: "__proto__.polluted", fieldName: "p", required: false },
      { path: "user_data.role", fieldName: "role", required: true },
    ];
    const claims = metadataClaims(fields, metadata);
    expect(polluted().polluted).toBeUndefined();
    expect(claims).toStrictEqual({ ok: true, value: { user_data: { role: "admin" } } });
  });

  it("claims read own properties only: an inherited name is missing metadata", () => {
    const fields = [{ path: "toString", fieldName: "t", required: true }];
    expect(failureOf(metadataClaims(fields, {}))).toMatchObject({ reason: "INVALID_METADATA" });
  });

  it("the CLI refuses such a path in --metadata path=value, before writing it", () => {
    expect(() => metadataOf(["__proto__.polluted=yes"], undefined)).toThrow(UsageError);
    expect(() => metadataOf(["__proto__.polluted=yes"], undefined)).toThrow(`--metadata __proto__.polluted=yes: the path ${RULE}`);
    expect(polluted().polluted).toBeUndefined();
    // A key of --metadata-json is data, merged through own properties only.
    expect(metadataOf(["user_data.role=admin"], '{"user_data": {"level": 3}}')).toStrictEqual({ user_data: { level: 3, role: "admin" } });
  });

  it("the CLI refuses such a path in apps create --metadata: exit 2 before anything is sent", () => {
    const out = spawnSync(process.execPath, ["--import", "tsx", "src/cli/signin.ts", "apps", "create", "acme", "--metadata", "constructor.prototype.polluted:p"], {
      env: { ...process.env, SIGNIN_URL: "http://127.0.0.1:9", ADMIN_TOKEN: "x".repeat(40) },
      encoding: "utf8",
    });
    expect(out.status).toBe(2);
    expect(out.stderr).toContain(`signin: --metadata constructor.prototype.polluted:p: the path ${RULE}`);
  });
});
