#!/usr/bin/env node
// `signin`: the administration CLI over the AdminService's generated client.
// SIGNIN_URL / --url names the service, ADMIN_TOKEN / --token authenticates; --json for scripts.
import { toJson } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { parseArgs, type ParseArgsConfig } from "node:util";
import QRCode from "qrcode";
import { AdminService, type App } from "../../gen/signin/admin/v1/admin_pb.js";
import { importFile } from "./import.js";
import { metadataPathProblem } from "../core/apps/metadata-path.js";
import { metadataOf } from "./metadata.js";
import { usage, UsageError } from "./usage.js";

const HELP = `Usage: signin [--url URL] [--token TOKEN] [--json] <command>

  apps list
  apps create <id> [--name N] [--two-factor none|phone|google] [--realm R] [--prehash none|md5]
                   [--jwt-hours H] [--remember-device-days D] [--metadata path:fieldName[:required]]...
  apps update <id> [--name N] [--status S] [--two-factor T] [--realm R] [--jwt-hours H] [--remember-device-days D]
                            prints each field that changed (field: old -> new)
  apps suspend|activate|delete|rotate-token <id>
  users list [--app A] [--page-size N] [--page-token T]
  users create --username U --password P [--app A] [--email E] [--full-name F] [--permission P]...
               [--metadata path=value]... [--metadata-json JSON]
  users update <id> [--email E] [--full-name F] [--permission P]... [--clear-permissions]
                    [--metadata path=value]... [--metadata-json JSON]
                            permissions and metadata replace the account's; --email '' removes it
  users set-password <id> --password P
  users deactivate|activate|reset-2fa|revoke|audit <id>
  users sessions <id> [--revoke S]
                            the account's live sessions (id, kind, browser, OS, IP, last used, created);
                            --revoke ends session S (an id from the list) on every instance
  totp enroll <id>          new active TOTP secret, shown as a QR code in the terminal
  import <file> [--app A]   JSON lines of accounts (see docs/operations.md); progress on stderr, summary at the end
  keys rotate [--app A]     new signing key (the service's, or an app's)

Metadata: --metadata user_data.role=admin sets {"user_data":{"role":"admin"}} (string values; repeat
it for more), --metadata-json '{"user_data":{"level":3}}' sets any JSON; both together merge.
Passwords: 8 to 1024 characters, not blank.
Environment: SIGNIN_URL (default http://127.0.0.1:8080), ADMIN_TOKEN.`;

const OPTIONS = {
  url: { type: "string" },
  token: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
  name: { type: "string" },
  status: { type: "string" },
  "two-factor": { type: "string" },
  realm: { type: "string" },
  prehash: { type: "string" },
  "jwt-hours": { type: "string" },
  "remember-device-days": { type: "string" },
  metadata: { type: "string", multiple: true },
  "metadata-json": { type: "string" },
  app: { type: "string" },
  "page-size": { type: "string" },
  "page-token": { type: "string" },
  username: { type: "string" },
  password: { type: "string" },
  email: { type: "string" },
  "full-name": { type: "string" },
  permission: { type: "string", multiple: true },
  "clear-permissions": { type: "boolean" },
  batch: { type: "string" },
  revoke: { type: "string" },
} as const satisfies ParseArgsConfig["options"];
type Option = keyof typeof OPTIONS;

const GLOBAL: Option[] = ["url", "token", "json", "help"];
const ACCOUNT: Option[] = ["email", "full-name", "permission", "metadata", "metadata-json"];
// Each command's own options: any other is bad usage, never silently ignored. `id`: takes <id> (or <file>).
const COMMANDS: Record<string, { id?: true; options?: Option[] }> = {
  "apps list": {},
  "apps create": { id: true, options: ["name", "two-factor", "realm", "prehash", "jwt-hours", "remember-device-days", "metadata"] },
  "apps update": { id: true, options: ["name", "status", "two-factor", "realm", "jwt-hours", "remember-device-days"] },
  ...Object.fromEntries(["suspend", "activate", "delete", "rotate-token"].map((v) => [`apps ${v}`, { id: true }])),
  "users list": { options: ["app", "page-size", "page-token"] },
  "users create": { options: ["app", "username", "password", ...ACCOUNT] },
  "users update": { id: true, options: [...ACCOUNT, "clear-permissions"] },
  "users set-password": { id: true, options: ["password"] },
  ...Object.fromEntries(["deactivate", "activate", "reset-2fa", "revoke", "audit"].map((v) => [`users ${v}`, { id: true }])),
  "users sessions": { id: true, options: ["revoke"] },
  "totp enroll": { id: true },
  "keys rotate": { options: ["app"] },
  import: { id: true, options: ["app", "batch"] },
};

function parse(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (err) {
    throw new UsageError((err as Error).message); // an unknown option, or one missing its value
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) return { values, positionals, command: null };
  const command = positionals[0] === "import" ? "import" : positionals.slice(0, 2).join(" ");
  const spec = COMMANDS[command] ?? usage(`unknown command "${positionals.join(" ")}"`);
  const given = positionals.slice(command.split(" ").length);
  if (given.length > (spec.id ? 1 : 0)) usage(`${command}: unexpected argument "${given[spec.id ? 1 : 0]}"`);
  for (const name of Object.keys(values) as Option[]) {
    if (!GLOBAL.includes(name) && !spec.options?.includes(name)) usage(`${command} does not take --${name}`);
  }
  return { values, positionals, command };
}

async function main(argv: string[]): Promise<void> {
  const { values: o, positionals: args, command } = parse(argv);
  if (command === null) return void console.log(HELP);
  const token = o.token ?? process.env.ADMIN_TOKEN;
  if (!token) throw new UsageError("an admin token is needed: --token or ADMIN_TOKEN");
  const client = createClient(
    AdminService,
    createConnectTransport({
      baseUrl: o.url ?? process.env.SIGNIN_URL ?? "http://127.0.0.1:8080",
      httpVersion: "1.1",
      interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${token}`), next(req))],
    }),
  );
  const print = (method: keyof typeof AdminService.method, msg: unknown, text: () => string) =>
    console.log(o.json ? JSON.stringify(toJson(AdminService.method[method].output, msg as never)) : text());
  const id = () => args[2] ?? usage(`${command} needs an id`);
  const hours = whole("jwt-hours", o["jwt-hours"]);
  const rememberDeviceDays = whole("remember-device-days", o["remember-device-days"]);
  const verb = args[1];
  if (command === "import") {
    return importFile(client, verb ?? usage("import needs a file"), { app: o.app, json: o.json, batch: whole("batch", o.batch) ?? 500 });
  }

  switch (command) {
    case "apps list": {
      const res = await client.listApps({});
      return print("listApps", res, () =>
        res.apps.map((a) => `${a.id}\t${a.status}\t2fa=${a.twoFactor}\taud=${a.realmAppId}\t${a.name}`).join("\n") || "(no apps)",
      );
    }
    case "apps create": {
      const metadataFields = (o.metadata ?? []).map((m) => {
        const [path, fieldName, required, ...rest] = m.split(":");
        if (!path || (required !== undefined && required !== "required") || rest.length > 0) usage(`--metadata ${m}: expected path:fieldName[:required]`);
        const problem = metadataPathProblem(path);
        if (problem) usage(`--metadata ${m}: the path ${problem}`);
        return { path, fieldName: fieldName || path, required: required === "required" };
      });
      const res = await client.createApp({
        app: { id: id(), name: o.name, twoFactor: o["two-factor"], realmAppId: o.realm, passwordPrehash: o.prehash, jwtExpirationHours: hours, rememberDeviceDays, metadataFields },
      });
      return print("createApp", res, () => `created app ${res.app?.id}\napp token (shown once): ${res.appToken}`);
    }
    case "apps update":
    case "apps suspend":
    case "apps activate":
    case "apps delete": {
      const status = verb === "update" ? o.status : { suspend: "suspended", activate: "active", delete: "deleted" }[verb as string];
      const res = await client.updateApp({ id: id(), name: o.name, status, twoFactor: o["two-factor"], realmAppId: o.realm, jwtExpirationHours: hours, rememberDeviceDays });
      return print("updateApp", res, () => [`app ${res.app?.id}: ${res.app?.status}`, ...changes(res.previous, res.app)].join("\n"));
    }
    case "apps rotate-token": {
      const res = await client.rotateAppToken({ id: id() });
      return print("rotateAppToken", res, () => `new app token (shown once): ${res.appToken}`);
    }
    case "users list": {
      const res = await client.listAccounts({ appId: o.app, pageSize: whole("page-size", o["page-size"]) ?? 100, pageToken: o["page-token"] });
      return print("listAccounts", res, () =>
        [
          ...res.accounts.map((a) => `${a.id}\t${a.username}\t${a.email}\t${a.deactivated ? "deactivated" : "active"}${a.totpEnabled ? "\ttotp" : ""}`),
          ...(res.nextPageToken ? [`(more: --page-token ${res.nextPageToken})`] : []),
        ].join("\n") || "(no accounts)",
      );
    }
    case "users create": {
      const res = await client.createAccount({
        appId: o.app,
        username: o.username ?? usage("--username is required"),
        password: o.password ?? usage("--password is required"),
        email: o.email,
        fullName: o["full-name"],
        permissions: o.permission ?? [],
        metadata: metadataOf(o.metadata, o["metadata-json"]),
      });
      return print("createAccount", res, () => `created account ${res.account?.id} (${res.account?.username})`);
    }
    case "users update": {
      if (o.permission && o["clear-permissions"]) usage("--permission and --clear-permissions exclude each other");
      const permissions = o["clear-permissions"] ? [] : o.permission;
      const patch = {
        email: o.email,
        fullName: o["full-name"],
        permissions: permissions && { values: permissions },
        metadata: metadataOf(o.metadata, o["metadata-json"]),
      };
      const changed = Object.entries(patch).flatMap(([field, value]) => (value === undefined ? [] : [field]));
      if (changed.length === 0) usage("users update needs something to change");
      const res = await client.updateAccount({ id: id(), ...patch });
      return print("updateAccount", res, () => `account ${res.account?.id} (${res.account?.username}): set ${changed.join(", ")}`);
    }
    case "users set-password":
      await client.setPassword({ id: id(), password: o.password ?? usage("--password is required") });
      return done(o.json, "password set");
    case "users deactivate":
    case "users activate": {
      const res = await client.updateAccount({ id: id(), deactivated: verb === "deactivate" });
      return print("updateAccount", res, () => `account ${res.account?.id}: ${res.account?.deactivated ? "deactivated" : "active"}`);
    }
    case "users reset-2fa":
      await client.resetSecondFactors({ id: id() });
      return done(o.json, "second factors removed");
    case "users revoke":
      await client.revokeSessions({ id: id() });
      return done(o.json, "all sessions revoked");
    case "users audit": {
      const res = await client.listAuditEvents({ id: id() });
      return print("listAuditEvents", res, () =>
        res.events.map((e) => `${new Date(Number(e.time?.seconds ?? 0) * 1000).toISOString()}\t${e.event}\t${e.reason}\t${e.ip}\t${e.surface}`).join("\n") ||
          "(no events)",
      );
    }
    case "users sessions": {
      if (o.revoke !== undefined) {
        await client.revokeSession({ accountId: id(), sessionId: o.revoke || usage("--revoke needs a session id") });
        return done(o.json, `session ${o.revoke} ended`);
      }
      const res = await client.listSessions({ accountId: id() });
      const at = (t: { seconds: bigint } | undefined) => new Date(Number(t?.seconds ?? 0) * 1000).toISOString();
      return print("listSessions", res, () =>
        res.sessions
          .map((s) => [s.id, s.kind, s.browser || "?", s.os || "?", s.ip, `last used ${at(s.lastUsedAt)}`, `created ${at(s.createdAt)}`, ...(s.rememberedDevice ? ["remembered"] : [])].join("\t"))
          .join("\n") || "(no sessions)",
      );
    }
    case "totp enroll": {
      const res = await client.enrollTotp({ id: id() });
      if (o.json) return print("enrollTotp", res, () => "");
      console.log(await QRCode.toString(res.uri, { type: "terminal", small: true }));
      return console.log(`secret: ${res.secret}\nuri: ${res.uri}`);
    }
    case "keys rotate": {
      const res = await client.rotateSigningKey({ appId: o.app });
      return print("rotateSigningKey", res, () => `new signing key ${res.kid}${o.app ? ` for app ${o.app}` : ""}`);
    }
    default:
      usage(`unknown command "${args.join(" ")}"`);
  }
}

// What an update changed, one line per field: "  jwtExpirationHours: 24 -> 12".
function changes(before: App | undefined, after: App | undefined): string[] {
  if (!before || !after) return [];
  const fields = ["name", "status", "twoFactor", "realmAppId", "jwtExpirationHours", "rememberDeviceDays"] as const;
  const lines = fields.filter((f) => before[f] !== after[f]).map((f) => `  ${f}: ${before[f]} -> ${after[f]}`);
  return lines.length > 0 ? lines : ["  (nothing changed)"];
}

// A whole number option, or a usage error (never NaN sent to the service).
function whole(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) usage(`--${name} must be a whole number`);
  return Number(value);
}

function done(json: boolean | undefined, text: string) {
  console.log(json ? JSON.stringify({ ok: true }) : text);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) console.error(`signin: ${err.message}\n\n${HELP}`);
  else if (err instanceof ConnectError) console.error(`signin: ${err.rawMessage} (${Code[err.code]})`);
  else console.error(`signin: ${(err as Error).message}`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
