// AdminService: apps, accounts, keys and audit for operators and the `signin` CLI, over the admin
// core (core/admin). Registered only when ADMIN_TOKEN is set; every call must present it, and every
// call, refused or not, is audited once (core/admin/admin-audit.ts).
import type { MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Interceptor, type ServiceImpl } from "@connectrpc/connect";
import { createHash, timingSafeEqual } from "node:crypto";
import type { AccountSchema, AdminService, App as AppMessage, AppSchema } from "../../../gen/signin/admin/v1/admin_pb.js";
import type { Account } from "../../core/accounts/account.js";
import { adminActor, adminTarget, type AdminAuditEvent } from "../../core/admin/admin-audit.js";
import type { Admin } from "../../core/admin/admin.js";
import type { AppSpec } from "../../core/admin/app-spec.js";
import type { App } from "../../core/apps/app.js";
import { requestContextKey } from "../request-context.js";
import { failureThrown, unwrap } from "./errors.js";
import { sessionMessage } from "./session-message.js";

/** The admin core, built in src/service.ts. */
export type AdminDeps = Admin;

/**
 * Refuses every call that does not present the admin token (hashed first, so compared in constant
 * time), and audits every call: here, around the whole method, so a request refused before the core
 * (its token, its strings) is in the trail too.
 */
export function requireAdminToken(token: string, admin: AdminDeps): Interceptor {
  const expected = createHash("sha256").update(token).digest();
  const actor = adminActor(token);
  return (next) => async (req) => {
    const ctx = req.contextValues.get(requestContextKey);
    const action = req.method.name;
    const m = /^Bearer (.+)$/.exec(req.header.get("authorization") ?? "");
    const given = createHash("sha256").update(m?.[1] ?? "").digest();
    if (!m || !timingSafeEqual(given, expected)) {
      // Nothing of the request is recorded: its sender is not known.
      const reason = m ? "wrong_admin_token" : "no_admin_token";
      const denied: AdminAuditEvent = { event: "admin.denied", actor: "unknown", action, target: {}, outcome: "failed", reason };
      admin.audit.record(ctx, denied);
      throw new ConnectError("admin token required", Code.Unauthenticated);
    }
    const describe = (res?: unknown) => (req.stream ? { target: {} } : CALLS[req.method.localName as AdminMethod](req.message as never, res as never, admin));
    const record = (outcome: AdminAuditEvent["outcome"], described: Described, reason?: string) => {
      const call: AdminAuditEvent = { event: "admin.call", actor, action, outcome, ...described, ...(reason ? { reason } : {}) };
      admin.audit.record(ctx, call);
    };
    try {
      const res = await next(req);
      record("ok", describe(res.stream ? undefined : res.message));
      return res;
    } catch (err) {
      record("failed", describe(), reasonOf(err));
      throw err;
    }
  };
}

type AdminMethods = typeof AdminService.method;
type AdminMethod = keyof AdminMethods;
type Described = Pick<AdminAuditEvent, "target" | "detail">;

// What each call names, and for some what it did; the response is there when the call succeeded.
// Listed per RPC so that a new one cannot be added without saying what its audit entry holds.
const CALLS: {
  [K in AdminMethod]: (req: MessageShape<AdminMethods[K]["input"]>, res: MessageShape<AdminMethods[K]["output"]> | undefined, admin: AdminDeps) => Described;
} = {
  createApp: (req) => ({ target: adminTarget({ app: req.app?.id }) }),
  updateApp: (req) => ({
    target: adminTarget({ app: req.id }),
    detail: { fields: fieldsSet({ name: req.name, status: req.status, twoFactor: req.twoFactor, realmAppId: req.realmAppId, jwtExpirationHours: req.jwtExpirationHours, rememberDeviceDays: req.rememberDeviceDays }, true) },
  }),
  listApps: () => ({ target: {} }),
  rotateAppToken: (req) => ({ target: adminTarget({ app: req.id }) }),
  rotateSigningKey: (req, res) => ({ target: adminTarget({ app: req.appId, key: req.appId ? "app" : "service" }), ...(res && { detail: { kid: res.kid } }) }),
  createAccount: (req, res, admin) => ({ target: adminTarget({ app: admin.apps.idOf(req.appId), login: req.username, account: res?.account?.id }) }),
  updateAccount: (req) => ({
    target: adminTarget({ account: req.id }),
    // Personal data by name only; the switch with its value.
    detail: {
      fields: [
        ...fieldsSet({ deactivated: req.deactivated }, true),
        ...fieldsSet({ email: req.email, fullName: req.fullName, permissions: req.permissions, metadata: req.metadata }, false),
      ],
    },
  }),
  setPassword: (req) => ({ target: adminTarget({ account: req.id }) }),
  enrollTotp: (req) => ({ target: adminTarget({ account: req.id }) }),
  resetSecondFactors: (req) => ({ target: adminTarget({ account: req.id }) }),
  revokeSessions: (req) => ({ target: adminTarget({ account: req.id }) }),
  listAccounts: (req, _res, admin) => ({ target: adminTarget({ app: admin.apps.idOf(req.appId) }) }),
  listAuditEvents: (req) => ({ target: adminTarget({ account: req.id }) }),
  listSessions: (req) => ({ target: adminTarget({ account: req.accountId }) }),
  revokeSession: (req) => ({ target: adminTarget({ account: req.accountId }), detail: { session: req.sessionId } }),
  importAccounts: (req, res, admin) => {
    const apps = new Set(req.records.map((r) => admin.apps.idOf(r.appId)));
    const outcomes: Record<string, number> = {};
    for (const r of res?.results ?? []) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    // The accounts themselves are in the call's answer; the trail says how many and of which app.
    return { target: adminTarget({ app: apps.size === 1 ? [...apps][0] : undefined }), detail: { records: req.records.length, ...outcomes } };
  },
};

/** The fields a request sets, as `name=value` or (personal data) `name`. */
function fieldsSet(fields: Record<string, unknown>, withValues: boolean): string[] {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => (withValues ? `${k}=${String(v).slice(0, 64)}` : k));
}

/** The core's reason (e.g. account_not_found), else the Connect code (e.g. invalid_argument). */
function reasonOf(err: unknown): string {
  const failure = failureThrown(err);
  if (failure) return failure.reason.toLowerCase();
  if (err instanceof ConnectError) return Code[err.code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
  return "error";
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

    async updateApp({ id, name, status, twoFactor, realmAppId, jwtExpirationHours, rememberDeviceDays }) {
      const { app, previous } = unwrap(await apps.update(id, { name, status, twoFactor, realmAppId, jwtExpirationHours, rememberDeviceDays }));
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

    async listSessions({ accountId }) {
      const sessions = unwrap(await admin.sessions.list(accountId));
      return {
        sessions: sessions.map(sessionMessage), // AccountSession has no `current`: left out by the encoder
      };
    },

    async revokeSession({ accountId, sessionId }, ctx) {
      unwrap(await admin.sessions.revoke(ctx.values.get(requestContextKey), accountId, sessionId));
      return {};
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
    // 0 (proto3's "absent") is also the default: off.
    rememberDeviceDays: given(a.rememberDeviceDays),
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
    rememberDeviceDays: a.rememberDeviceDays,
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
