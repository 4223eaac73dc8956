#!/usr/bin/env node
// `signin`: the administration CLI over the AdminService's generated client.
// SIGNIN_URL / --url names the service, ADMIN_TOKEN / --token authenticates; --json for scripts.
import { toJson } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { parseArgs } from "node:util";
import QRCode from "qrcode";
import { AdminService } from "../../gen/signin/admin/v1/admin_pb.js";
import { importFile } from "./import.js";

const HELP = `Usage: signin [--url URL] [--token TOKEN] [--json] <command>

  apps list
  apps create <id> [--name N] [--two-factor none|phone|google] [--realm R] [--prehash none|md5]
                   [--jwt-hours H] [--metadata path:fieldName[:required]]...
  apps update <id> [--name N] [--status S] [--two-factor T] [--realm R] [--jwt-hours H]
  apps suspend|activate|delete|rotate-token <id>
  users list [--app A] [--page-size N] [--page-token T]
  users create --username U --password P [--app A] [--email E] [--full-name F] [--permission P]...
  users set-password <id> --password P
  users deactivate|activate|reset-2fa|revoke|audit <id>
  totp enroll <id>          new active TOTP secret, shown as a QR code in the terminal
  import <file>             JSON lines of accounts (see README); progress on stderr, summary at the end
  keys rotate [--app A]     new signing key (the service's, or an app's)

Environment: SIGNIN_URL (default http://127.0.0.1:8080), ADMIN_TOKEN.`;

export class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const { values: o, positionals: args } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
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
      metadata: { type: "string", multiple: true },
      app: { type: "string" },
      "page-size": { type: "string" },
      "page-token": { type: "string" },
      username: { type: "string" },
      password: { type: "string" },
      email: { type: "string" },
      "full-name": { type: "string" },
      permission: { type: "string", multiple: true },
      batch: { type: "string" },
    },
  });
  if (o.help || args.length === 0) return void console.log(HELP);
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
  const id = () => args[2] ?? usage(`${args[0]} ${args[1]} needs an id`);
  const hours = o["jwt-hours"] === undefined ? undefined : Number(o["jwt-hours"]);
  const [group, verb] = args;
  if (group === "import") {
    return importFile(client, verb ?? usage("import needs a file"), { app: o.app, json: o.json, batch: Number(o.batch ?? 500) });
  }

  switch (`${group} ${verb ?? ""}`.trim()) {
    case "apps list": {
      const res = await client.listApps({});
      return print("listApps", res, () =>
        res.apps.map((a) => `${a.id}\t${a.status}\t2fa=${a.twoFactor}\taud=${a.realmAppId}\t${a.name}`).join("\n") || "(no apps)",
      );
    }
    case "apps create": {
      const metadataFields = (o.metadata ?? []).map((m) => {
        const [path, fieldName, required] = m.split(":");
        if (!path) usage(`--metadata ${m}: expected path:fieldName[:required]`);
        return { path, fieldName: fieldName || path, required: required === "required" };
      });
      const res = await client.createApp({
        app: { id: id(), name: o.name, twoFactor: o["two-factor"], realmAppId: o.realm, passwordPrehash: o.prehash, jwtExpirationHours: hours, metadataFields },
      });
      return print("createApp", res, () => `created app ${res.app?.id}\napp token (shown once): ${res.appToken}`);
    }
    case "apps update":
    case "apps suspend":
    case "apps activate":
    case "apps delete": {
      const status = verb === "update" ? o.status : { suspend: "suspended", activate: "active", delete: "deleted" }[verb as string];
      const res = await client.updateApp({ id: id(), name: o.name, status, twoFactor: o["two-factor"], realmAppId: o.realm, jwtExpirationHours: hours });
      return print("updateApp", res, () => `app ${res.app?.id}: ${res.app?.status}`);
    }
    case "apps rotate-token": {
      const res = await client.rotateAppToken({ id: id() });
      return print("rotateAppToken", res, () => `new app token (shown once): ${res.appToken}`);
    }
    case "users list": {
      const res = await client.listAccounts({ appId: o.app, pageSize: Number(o["page-size"] ?? 100), pageToken: o["page-token"] });
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
      });
      return print("createAccount", res, () => `created account ${res.account?.id} (${res.account?.username})`);
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

function done(json: boolean | undefined, text: string) {
  console.log(json ? JSON.stringify({ ok: true }) : text);
}

function usage(message: string): never {
  throw new UsageError(message);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) console.error(`signin: ${err.message}\n\n${HELP}`);
  else if (err instanceof ConnectError) console.error(`signin: ${err.rawMessage} (${Code[err.code]})`);
  else console.error(`signin: ${(err as Error).message}`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
