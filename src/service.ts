// Composition root: config -> stores -> core -> transports -> listening port.
// Used by main.ts and by the tests, which start real services on free ports.
import { readFile } from "node:fs/promises";
import cluster from "node:cluster";
import { pino } from "pino";
import { clusterMetrics } from "./cluster.js";
import type { Config } from "./config.js";
import { VERSION } from "./version.js";
import { Admin } from "./core/admin/admin.js";
import { saveApp } from "./core/admin/apps.js";
import { applyBootstrap, BootstrapError, parseBootstrap } from "./core/bootstrap.js";
import { systemClock, type Clock } from "./core/clock.js";
import type { EphemeralStore } from "./core/ephemeral.js";
import type { Logger } from "./core/logger.js";
import { AppUsers } from "./core/app-users/app-users.js";
import { loggerAudit, RecentAudit } from "./core/audit.js";
import { Revocations } from "./core/sessions/revocations.js";
import { SignInLimits } from "./core/limits/sign-in-limits.js";
import { HashPool } from "./core/password/hash-pool.js";
import { memoryLimiters, redisLimiters } from "./stores/limiters.js";
import { readiness } from "./transport/readiness.js";
import { trustProxies } from "./transport/request-context.js";
import { defaultApp } from "./core/apps/app.js";
import { Challenges } from "./core/otp/challenges.js";
import { codeSecret } from "./core/otp/code-secret.js";
import { DeviceCredentials } from "./core/devices/device-credential.js";
import { RememberedDevices } from "./core/devices/remembered-devices.js";
import { TotpEnrollment } from "./core/otp/enrollment.js";
import { Passkeys } from "./core/passkeys/passkeys.js";
import { PasskeyAssertions } from "./core/passkeys/assertions.js";
import { StepUpProof } from "./core/passkeys/step-up-proof.js";
import { PostgresPasskeyStore } from "./stores/postgres/passkeys.js";
import { RecoveryCodes } from "./core/otp/recovery-codes.js";
import { AppKeys, AppTokens } from "./core/tokens/app-tokens.js";
import { Jwks } from "./core/tokens/jwks.js";
import { resealAtStart } from "./core/secrets/reseal.js";
import { Sealer } from "./core/secrets/sealer.js";
import { DevelopmentSmsSender } from "./integrations/sms/development.js";
import { WebhookSmsSender } from "./integrations/sms/webhook.js";
import { WebhookNewDeviceNotifier } from "./integrations/notify/webhook.js";
import { Metrics } from "./observability/metrics.js";
import type { Tracing } from "./observability/tracing.js";
import { CachedAccountStore, codesCountedWithAccounts } from "./stores/cached-accounts.js";
import { CachedAppStore } from "./stores/cached-apps.js";
import { PostgresAppStore } from "./stores/postgres/apps.js";
import { TotpVerifier } from "./core/otp/totp.js";
import { PasswordHasher } from "./core/password/hasher.js";
import { Sessions } from "./core/sessions/sessions.js";
import { SessionList } from "./core/sessions/session-list.js";
import { SessionRecords } from "./core/sessions/session-records.js";
import { SignIn } from "./core/sign-in/sign-in.js";
import { KeyRing } from "./core/tokens/key-ring.js";
import { SessionTokens } from "./core/tokens/session-token.js";
import { MemoryEphemeralStore } from "./stores/memory/ephemeral.js";
import { PostgresAccountStore } from "./stores/postgres/accounts.js";
import { openDatabase, type Database } from "./stores/postgres/database.js";
import { PostgresKeyStore } from "./stores/postgres/keys.js";
import { PostgresRevocationStore } from "./stores/postgres/revocations.js";
import { PostgresRecoveryCodeStore } from "./stores/postgres/recovery-codes.js";
import { migrate } from "./stores/postgres/migrations.js";
import { RedisEphemeralStore } from "./stores/redis/ephemeral.js";
import { cookiePolicy } from "./transport/services/credentials.js";
import { implementations } from "./transport/services/routes.js";
import { createHandler } from "./transport/handler.js";
import { listen } from "./transport/server.js";
import { listenMetrics } from "./transport/metrics-endpoint.js";

/** Wrong codes a login token or a phone verification survives. */
const MAX_CODE_ATTEMPTS = 5;
// Apps and accounts are cached per instance; a write outdates the caches everywhere (ReadCache).
const CACHE_TTL_MS = 30_000;

export interface Service {
  url: string;
  /** The METRICS_PORT listener's /metrics URL, when there is one. */
  metricsUrl?: string;
  close(): Promise<void>;
}

export interface ServiceOptions {
  clock?: Clock;
  log?: Logger;
  /** An open database to use instead of the configured one (left open at close); lets tests run instances side by side on one PGlite. */
  database?: Database;
}

export async function startService(config: Config, opts: ServiceOptions = {}): Promise<Service> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? pino({ level: config.logLevel });
  const cleanup: Array<() => Promise<unknown>> = [];
  // The database opens before the metrics exist (they need the hashing pool); errors find them here.
  const metricsRef: { current?: Metrics } = {};
  const closeAll = async () => {
    for (const fn of cleanup.reverse()) await fn().catch((err) => log.warn({ err }, "error while closing"));
  };

  try {
    // Tracing first, so its close (flushing the last spans) comes after everything else's.
    // The SDK is loaded only when tracing is on.
    const tracing: Tracing | null = config.tracing ? (await import("./observability/tracing.js")).startTracing(config.tracing.tracesUrl, log) : null;
    if (tracing) cleanup.push(() => tracing.close());
    // Checked whole before anything is opened or written.
    const bootstrap = config.bootstrapFile ? await readBootstrap(config.bootstrapFile, config.defaultAppId) : null;
    // Redis first: an unreachable one is reported within its own bound, before the (slower) database opens.
    const rawStore = await openEphemeralStore(config, clock);
    cleanup.push(() => rawStore.close());
    // The core sees the stores through their seams, each call in a span when tracing.
    const store = tracing ? tracing.traceStore(rawStore, rawStore instanceof RedisEphemeralStore ? "redis" : "memory") : rawStore;
    const openedDb =
      opts.database ??
      (await openDatabase({
        url: config.databaseUrl ?? undefined,
        dataDir: config.dataDir,
        schema: config.databaseSchema,
        onError: () => metricsRef.current?.storeErrors.inc({ store: "postgres" }),
      }));
    if (!opts.database) cleanup.push(() => openedDb.close());
    await migrate(openedDb); // start-up work, not traced
    const db = tracing ? tracing.traceDatabase(openedDb) : openedDb;

    const now = () => clock.now();
    // Secrets at rest are sealed with the master key; re-sealed before anything reads them.
    const sealer = new Sealer(config.masterKey, config.masterKeyPrevious);
    const accountRows = new PostgresAccountStore(db, sealer);
    const keyStore = new PostgresKeyStore(db, sealer);
    await resealAtStart(sealer, { totpSecrets: () => accountRows.resealTotpSecrets(), signingKeys: () => keyStore.reseal() }, log, config.masterKeyPrevious !== null);
    const accounts = new CachedAccountStore(accountRows, store, CACHE_TTL_MS, now);
    const apps = new CachedAppStore(new PostgresAppStore(db), store, CACHE_TTL_MS, now);
    const pool = new HashPool(config.hashConcurrency, config.hashQueueMax);
    const metrics = new Metrics(pool);
    metricsRef.current = metrics;
    if (cluster.isWorker) metrics.exposition = clusterMetrics(metrics.registry);
    if (rawStore instanceof RedisEphemeralStore) rawStore.onError = () => metrics.storeErrors.inc({ store: "redis" });
    if (tracing) pool.spans = tracing.spans;
    pool.onDuration = (seconds) => metrics.hashSeconds.observe(seconds);
    const hasher = new PasswordHasher(config.argon2, pool);
    const limits = new SignInLimits(rawStore instanceof RedisEphemeralStore ? redisLimiters(rawStore.client) : memoryLimiters(), config.limits);
    const recentAudit = new RecentAudit(loggerAudit(log), store, clock, log);
    const audit = metrics.counting(recentAudit);
    const revocations = new Revocations(store, clock, Math.max(config.sessionTtlSeconds, config.accessTokenTtlSeconds) * 1000, new PostgresRevocationStore(db));
    const totp = new TotpVerifier(store, clock);
    const serviceKeys = await KeyRing.load(keyStore, "session", "EdDSA");
    const appKeys = new AppKeys(keyStore);
    const tokens = new SessionTokens(serviceKeys, config.tokenIssuer, clock, config.sessionTokenTtlSeconds * 1000);
    const appTokens = new AppTokens(appKeys, serviceKeys, config.tokenIssuer, clock, config.accessTokenTtlSeconds * 1000);
    const serverSecret = await codeSecret(config.masterKey, keyStore);
    const challenges = new Challenges(store, clock, MAX_CODE_ATTEMPTS, serverSecret);
    const devices = new DeviceCredentials(serverSecret, clock);
    const remembered = new RememberedDevices(store, revocations, clock);
    const sms = config.sms.webhookUrl
      ? new WebhookSmsSender(config.sms.webhookUrl, config.sms.webhookSecret!, clock)
      : new DevelopmentSmsSender(log, config.sms.devLogCodes);

    // The default app is created with its defaults unless the bootstrap file describes it (the file only
    // creates what is missing, so an app created here first would never get the file's settings).
    const describedByFile = bootstrap?.apps.some((app) => app.id === config.defaultAppId) ?? false;
    if (!describedByFile && !(await apps.findById(config.defaultAppId))) await saveApp({ apps, appKeys }, defaultApp(config.defaultAppId));
    if (bootstrap) {
      const applied = await applyBootstrap(bootstrap, { apps, accounts, hasher, appKeys, defaultAppId: config.defaultAppId });
      log.info(applied, "bootstrap applied");
    }

    const cookie = cookiePolicy(config.cookieSecure);
    // Every session's record (session list), and the list users and administrators see.
    const sessionRecords = new SessionRecords(store);
    const sessionList = new SessionList(sessionRecords, revocations, audit, clock, remembered);
    const newDevice = config.notify && new WebhookNewDeviceNotifier(config.notify.webhookUrl, config.notify.webhookSecret, clock, log);
    // Passkeys' origins default to the service's own, known once it listens (PORT=0 picks one).
    const listening: { url?: string } = {};
    const rp = { ...config.webauthn, origins: () => config.webauthn.origins ?? ownOrigins(listening.url, config.webauthn.rpId) };
    const passkeyStore = new PostgresPasskeyStore(db);
    const stepUpProof = new StepUpProof(accounts, apps, hasher, limits, log, clock);
    const passkeyAssertions = new PasskeyAssertions(passkeyStore, store, rp, audit, clock, limits);
    const recoveryCodes = new RecoveryCodes(codesCountedWithAccounts(new PostgresRecoveryCodeStore(db), accounts), serverSecret, audit, passkeyAssertions);
    const signIn = new SignIn({ apps, accounts, hasher, totp, limits, challenges, sms, audit, log, devices, newDevice, remembered, recoveryCodes, passkeys: passkeyAssertions, spans: tracing?.spans });
    const impls = implementations({
      accounts,
      apps,
      defaultAppId: config.defaultAppId,
      signIn,
      sessions: new Sessions(store, accounts, tokens, clock, config.sessionTtlSeconds * 1000, revocations, audit, config.defaultAppId, sessionRecords),
      sessionList,
      passkeys: new Passkeys(passkeyStore, store, rp, stepUpProof, revocations, audit, clock, async (account) => recoveryCodes.afterFactorRemoved(await apps.findById(account.appId), account)),
      passkeyAssertions,
      enrollment: new TotpEnrollment(accounts, apps, store, totp, hasher, config.totpIssuer, { limits, revocations, log, sealer, recoveryCodes }),
      recoveryCodes,
      appTokens,
      appUsers: new AppUsers(apps, accounts, appTokens, challenges, sms, limits, audit, revocations, config.totpIssuer, log, clock, sessionRecords, recoveryCodes),
      cookie,
      clock,
      metrics,
    });
    const jwks = new Jwks(serviceKeys, appKeys, apps, keyStore, clock);
    const handler = createHandler(impls, {
      maxBodyBytes: config.maxBodyBytes,
      version: VERSION,
      log,
      jwks,
      trust: trustProxies(config.trustedProxies),
      metrics,
      corsOrigins: config.corsOrigins,
      cookieName: cookie.name,
      metricsToken: config.metrics.token,
      healthWatch: config.healthWatch,
      tracing,
      admin: config.adminToken
        ? {
            token: config.adminToken,
            deps: new Admin({
              apps,
              accounts,
              hasher,
              appKeys,
              serviceKeys,
              revocations,
              recentAudit,
              sessionList,
              defaultAppId: config.defaultAppId,
              serviceKeyGraceMs: Math.max(config.sessionTtlSeconds, config.accessTokenTtlSeconds) * 1000,
              totpIssuer: config.totpIssuer,
              recoveryCodes,
              passkeys: passkeyStore,
            }),
          }
        : null,
      readiness: readiness({
        database: async () => (await db.query("SELECT 1")).length === 1,
        redis: rawStore instanceof RedisEphemeralStore ? async () => rawStore.isReady() : "memory",
      }),
    });
    // In a cluster the primary serves METRICS_PORT for every worker (cluster.ts).
    const metricsServer = config.metrics.port !== null && !cluster.isWorker ? await listenMetrics(metrics.exposition, { ...config.metrics, port: config.metrics.port, connections: config.connections }) : null;
    if (metricsServer) cleanup.push(() => metricsServer.close());
    const server = await listen(handler, config);
    listening.url = server.url;
    cleanup.push(() => server.close(config.shutdownGraceSeconds * 1000));
    return { url: server.url, metricsUrl: metricsServer?.url, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** The service's own origin, on the RP id's host name (browsers refuse passkeys on an IP address). */
function ownOrigins(url: string | undefined, rpId: string): string[] {
  if (!url) return [];
  const own = new URL(url);
  own.hostname = rpId;
  return [own.origin];
}

async function readBootstrap(file: string, defaultAppId: string) {
  const text = await readFile(file, "utf8").catch((err: Error) => {
    throw new BootstrapError(`SIGNIN_BOOTSTRAP: cannot read ${file}: ${err.message}`);
  });
  try {
    return parseBootstrap(text, file, defaultAppId);
  } catch (err) {
    throw new BootstrapError(`SIGNIN_BOOTSTRAP ${file}: ${(err as Error).message}`);
  }
}

async function openEphemeralStore(config: Config, clock: Clock): Promise<EphemeralStore> {
  if (!config.redis) return new MemoryEphemeralStore(clock);
  const redis = new RedisEphemeralStore(config.redis, config.redisKeyPrefix);
  try {
    await redis.ready(); // its message names REDIS_URL, the address, the cause and what to do
  } catch (err) {
    await redis.close();
    throw err;
  }
  return redis;
}
