// AdminService: apps, accounts, keys and audit for operators and the `signin` CLI. Registered
// only when ADMIN_TOKEN is set; every call must present it (compared in constant time).
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Interceptor, type ServiceImpl } from "@connectrpc/connect";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { AccountSchema, AdminService, AppSchema } from "../../../gen/signin/admin/v1/admin_pb.js";
import type { Account, AccountStore } from "../../core/accounts/account.js";
import { importAccounts } from "../../core/admin/import.js";
import type { App, AppStore, NewApp } from "../../core/apps/app.js";
import type { RecentAudit } from "../../core/audit.js";
import { newTotpSecret, totpUri } from "../../core/otp/totp.js";
import type { PasswordHasher } from "../../core/password/hasher.js";
import type { Revocations } from "../../core/sessions/revocations.js";
import { passwordSecret } from "../../core/password/secret.js";
import type { AppKeys } from "../../core/tokens/app-tokens.js";
import type { KeyRing } from "../../core/tokens/key-ring.js";

export interface AdminDeps {
  apps: AppStore;
  accounts: AccountStore;
  hasher: PasswordHasher;
  appKeys: AppKeys;
  serviceKeys: KeyRing;
  revocations: Revocations;
  recentAudit: RecentAudit;
  defaultAppId: string;
  /** How long the previous service key keeps verifying after a rotation. */
  serviceKeyGraceMs: number;
  totpIssuer: string;
}

/** Refuses every call that does not present the admin token. */
export function requireAdminToken(token: string): Interceptor {
  const expected = createHash("sha256").update(token).digest();
  return (next) => async (req) => {
    const m = /^Bearer (.+)$/.exec(req.header.get("authorization") ?? "");
    const given = createHash("sha256").update(m?.[1] ?? "").digest();
    if (!m || !timingSafeEqual(given, expected)) throw new ConnectError("admin token required", Code.Unauthenticated);
    return next(req);
  };
}

const STATUSES = ["active", "suspended", "deleted"];
const TWO_FACTOR = ["none", "phone", "google"];
const invalid = (message: string): never => {
  throw new ConnectError(message, Code.InvalidArgument);
};
const notFound = (what: string): never => {
  throw new ConnectError(`${what} not found`, Code.NotFound);
};

export function adminService(deps: AdminDeps): ServiceImpl<typeof AdminService> {
  const { apps, accounts } = deps;
  const app = async (id: string) => (await apps.findById(id || deps.defaultAppId)) ?? notFound(`app "${id}"`);
  const account = async (id: string) => (await accounts.findById(id)) ?? notFound(`account "${id}"`);
  const newToken = () => randomBytes(32).toString("base64url");
  const save = async (a: App, appToken = "") => {
    const { tokenHash: _, ...rest } = a;
    return apps.upsert({ ...rest, appToken } as NewApp);
  };

  return {
    async createApp({ app: spec }) {
      if (!spec || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(spec.id)) return invalid("app.id: letters, digits, _ . - (up to 64)");
      if (await apps.findById(spec.id)) throw new ConnectError(`app "${spec.id}" exists`, Code.AlreadyExists);
      const status = spec.status || "active";
      const twoFactor = spec.twoFactor || "none";
      if (!STATUSES.includes(status)) invalid(`app.status must be one of ${STATUSES.join(", ")}`);
      if (!TWO_FACTOR.includes(twoFactor)) invalid(`app.twoFactor must be one of ${TWO_FACTOR.join(", ")}`);
      if (spec.passwordPrehash && !["none", "md5"].includes(spec.passwordPrehash)) invalid("app.passwordPrehash must be none or md5");
      const appToken = newToken();
      const created = await apps.upsert({
        id: spec.id,
        name: spec.name || spec.id,
        status: status as App["status"],
        twoFactor: twoFactor as App["twoFactor"],
        realmAppId: spec.realmAppId || spec.id,
        jwtExpirationHours: spec.jwtExpirationHours || 24,
        passwordPrehash: (spec.passwordPrehash || "none") as App["passwordPrehash"],
        metadataFields: spec.metadataFields.map((f) => ({ path: f.path, fieldName: f.fieldName || f.path, required: f.required })),
        appToken,
      });
      await deps.appKeys.ring(created.id);
      return { app: appMessage(created), appToken };
    },

    async updateApp(req) {
      const current = await app(req.id);
      if (req.status !== undefined && !STATUSES.includes(req.status)) invalid(`status must be one of ${STATUSES.join(", ")}`);
      if (req.twoFactor !== undefined && !TWO_FACTOR.includes(req.twoFactor)) invalid(`twoFactor must be one of ${TWO_FACTOR.join(", ")}`);
      const updated = await save({
        ...current,
        name: req.name ?? current.name,
        status: (req.status ?? current.status) as App["status"],
        twoFactor: (req.twoFactor ?? current.twoFactor) as App["twoFactor"],
        realmAppId: req.realmAppId ?? current.realmAppId,
        jwtExpirationHours: req.jwtExpirationHours ?? current.jwtExpirationHours,
      });
      return { app: appMessage(updated) };
    },

    async listApps() {
      return { apps: (await apps.list()).map(appMessage) };
    },

    async rotateAppToken({ id }) {
      const appToken = newToken();
      await save(await app(id), appToken);
      return { appToken };
    },

    async rotateSigningKey({ appId }) {
      if (!appId) return { kid: await deps.serviceKeys.rotate(deps.serviceKeyGraceMs) };
      const target = await app(appId);
      const ring = await deps.appKeys.ring(target.id);
      return { kid: await ring.rotate(target.jwtExpirationHours * 3600 * 1000) };
    },

    async createAccount(req) {
      const target = await app(req.appId);
      if (!req.username.trim()) invalid("username is required");
      if (!req.password) invalid("password is required");
      const created = await accounts.upsert({
        appId: target.id,
        username: req.username,
        email: req.email || null,
        fullName: req.fullName,
        passwordHash: await deps.hasher.hash(passwordSecret(target, req.password, "plain")),
        permissions: req.permissions,
        metadata: (req.metadata as Record<string, unknown>) ?? {},
      });
      return { account: accountMessage(created) };
    },

    async updateAccount(req) {
      const updated = await accounts.update(req.id, {
        email: req.email === undefined ? undefined : req.email || null,
        fullName: req.fullName,
        deactivated: req.deactivated,
        permissions: req.permissions?.values,
        metadata: req.metadata as Record<string, unknown> | undefined,
      });
      if (req.deactivated) await deps.revocations.revokeAll(req.id);
      return { account: accountMessage(updated ?? notFound(`account "${req.id}"`)) };
    },

    async setPassword({ id, password }) {
      if (!password) invalid("password is required");
      const target = await account(id);
      await accounts.setPasswordHash(id, await deps.hasher.hash(passwordSecret(await app(target.appId), password, "plain")));
      return {};
    },

    async enrollTotp({ id }) {
      const target = await account(id);
      const secret = newTotpSecret();
      await accounts.setTotpSecret(id, secret);
      return { secret, uri: totpUri(deps.totpIssuer, target.email ?? target.username, secret) };
    },

    async resetSecondFactors({ id }) {
      const target = await account(id);
      await accounts.setTotpSecret(id, null);
      await accounts.setPhone(id, { phone: target.phone, phoneVerified: target.phoneVerified, phoneTwoFactor: false });
      return {};
    },

    async revokeSessions({ id }) {
      await account(id);
      await deps.revocations.revokeAll(id);
      return {};
    },

    async listAccounts(req) {
      const target = await app(req.appId);
      const size = Math.min(Math.max(req.pageSize || 100, 1), 1000);
      const page = await accounts.list(target.id, req.pageToken, size + 1);
      const more = page.length > size;
      const shown = page.slice(0, size);
      return { accounts: shown.map(accountMessage), nextPageToken: more ? shown[shown.length - 1]!.id : "" };
    },

    async listAuditEvents({ id }) {
      const events = await deps.recentAudit.recent(id);
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
      if (records.length > 1000) invalid("at most 1000 records per call");
      const results = await importAccounts(
        records.map((r) => ({
          line: Number(r.line),
          appId: r.appId || deps.defaultAppId,
          id: r.id || undefined,
          username: r.username,
          email: r.email || undefined,
          passwordHash: r.passwordHash || undefined,
          password: r.password || undefined,
          fullName: r.fullName || undefined,
          metadata: r.metadata as Record<string, unknown> | undefined,
          deactivated: r.deactivated,
        })),
        deps,
      );
      return { results: results.map((r) => ({ line: BigInt(r.line), outcome: r.outcome, reason: r.reason ?? "", id: r.id ?? "" })) };
    },
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
