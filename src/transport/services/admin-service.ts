// AdminService: apps, accounts, keys and audit for operators and the `signin` CLI, over the admin
// core (core/admin). Registered only when ADMIN_TOKEN is set; every call must present it.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Interceptor, type ServiceImpl } from "@connectrpc/connect";
import { createHash, timingSafeEqual } from "node:crypto";
import type { AccountSchema, AdminService, App as AppMessage, AppSchema } from "../../../gen/signin/admin/v1/admin_pb.js";
import type { Account } from "../../core/accounts/account.js";
import type { Admin } from "../../core/admin/admin.js";
import type { AppSpec } from "../../core/admin/app-spec.js";
import type { App } from "../../core/apps/app.js";
import { unwrap } from "./errors.js";

/** The admin core, built in src/service.ts. */
export type AdminDeps = Admin;

/** Refuses every call that does not present the admin token (hashed first, so compared in constant time). */
export function requireAdminToken(token: string): Interceptor {
  const expected = createHash("sha256").update(token).digest();
  return (next) => async (req) => {
    const m = /^Bearer (.+)$/.exec(req.header.get("authorization") ?? "");
    const given = createHash("sha256").update(m?.[1] ?? "").digest();
    if (!m || !timingSafeEqual(given, expected)) throw new ConnectError("admin token required", Code.Unauthenticated);
    return next(req);
  };
}

// proto3 sends "" and 0 for fields left out; the core means "absent" by undefined.
const given = <T extends string | number>(value: T): T | undefined => value || undefined;

export function adminService(admin: AdminDeps): ServiceImpl<typeof AdminService> {
  const { apps, accounts } = admin;
  return {
    async createApp({ app: spec }) {
      const created = unwrap(await apps.create(spec ? appSpec(spec) : { id: "" }));
      return { app: appMessage(created.app), appToken: created.appToken };
    },

    async updateApp({ id, name, status, twoFactor, realmAppId, jwtExpirationHours }) {
      const { app, previous } = unwrap(await apps.update(id, { name, status, twoFactor, realmAppId, jwtExpirationHours }));
      return { app: appMessage(app), previous: appMessage(previous) };
    },

    async listApps() {
      return { apps: (await apps.list()).map(appMessage) };
    },

    async rotateAppToken({ id }) {
      return { appToken: unwrap(await apps.rotateToken(id)) };
    },

    async rotateSigningKey({ appId }) {
      return { kid: unwrap(await apps.rotateSigningKey(given(appId))) };
    },

    async createAccount(req) {
      const created = await accounts.create({
        appId: given(req.appId),
        username: req.username,
        password: req.password,
        email: given(req.email),
        fullName: req.fullName,
        permissions: req.permissions,
        metadata: req.metadata as Record<string, unknown> | undefined,
      });
      return { account: accountMessage(unwrap(created)) };
    },

    async updateAccount(req) {
      const updated = await accounts.update(req.id, {
        // Sent empty, the email is removed.
        email: req.email === undefined ? undefined : req.email || null,
        fullName: req.fullName,
        deactivated: req.deactivated,
        permissions: req.permissions?.values,
        metadata: req.metadata as Record<string, unknown> | undefined,
      });
      return { account: accountMessage(unwrap(updated)) };
    },

    async setPassword({ id, password }) {
      unwrap(await accounts.setPassword(id, password));
      return {};
    },

    async enrollTotp({ id }) {
      return unwrap(await accounts.enrollTotp(id));
    },

    async resetSecondFactors({ id }) {
      unwrap(await accounts.resetSecondFactors(id));
      return {};
    },

    async revokeSessions({ id }) {
      unwrap(await accounts.revokeSessions(id));
      return {};
    },

    async listAccounts({ appId, pageToken, pageSize }) {
      const page = unwrap(await accounts.list(given(appId), pageToken, pageSize));
      return { accounts: page.accounts.map(accountMessage), nextPageToken: page.nextPageToken };
    },

    async listAuditEvents({ id }) {
      const events = unwrap(await accounts.auditEvents(id));
      return {
        events: events.map((e) => ({
          time: timestampFromDate(new Date(e.time)),
          event: e.event,
          reason: e.reason ?? "",
          appId: e.appId ?? "",
          ip: e.ip,
          userAgent: e.userAgent,
          requestId: e.requestId,
          surface: e.surface,
        })),
      };
    },

    async importAccounts({ records }) {
      const results = await accounts.import(
        records.map((r) => ({
          line: Number(r.line),
          appId: given(r.appId),
          id: given(r.id),
          username: r.username,
          email: given(r.email),
          passwordHash: given(r.passwordHash),
          password: given(r.password),
          fullName: given(r.fullName),
          metadata: r.metadata as Record<string, unknown> | undefined,
          deactivated: r.deactivated,
        })),
      );
      return { results: unwrap(results).map((r) => ({ line: BigInt(r.line), outcome: r.outcome, reason: r.reason ?? "", id: r.id ?? "" })) };
    },
  };
}

function appSpec(a: AppMessage): AppSpec {
  return {
    id: a.id,
    name: given(a.name),
    status: given(a.status),
    twoFactor: given(a.twoFactor),
    realmAppId: given(a.realmAppId),
    jwtExpirationHours: given(a.jwtExpirationHours),
    passwordPrehash: given(a.passwordPrehash),
    metadataFields: a.metadataFields.map((f) => ({ path: f.path, fieldName: given(f.fieldName), required: f.required })),
  };
}

function appMessage(a: App): MessageInitShape<typeof AppSchema> {
  return {
    id: a.id,
    name: a.name,
    status: a.status,
    twoFactor: a.twoFactor,
    realmAppId: a.realmAppId,
    jwtExpirationHours: a.jwtExpirationHours,
    passwordPrehash: a.passwordPrehash,
    metadataFields: a.metadataFields,
  };
}

function accountMessage(a: Account): MessageInitShape<typeof AccountSchema> {
  return {
    id: a.id,
    appId: a.appId,
    username: a.username,
    email: a.email ?? "",
    fullName: a.fullName,
    permissions: a.permissions,
    deactivated: a.deactivated,
    totpEnabled: a.totpSecret !== null,
    phone: a.phone ?? "",
    phoneTwoFactor: a.phoneTwoFactor,
    metadata: a.metadata as never,
    createdAt: timestampFromDate(a.createdAt),
  };
}
