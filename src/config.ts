// Every environment variable the service reads, parsed and validated once at start-up.
// A bad value stops start-up with a message naming the variable.
import { readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import tls from "node:tls";
import proxyaddr from "proxy-addr";
import { isAppId } from "./core/apps/app.js";
import type { LimitsConfig } from "./core/limits/sign-in-limits.js";
import type { ConnectionLimits } from "./transport/connection-policy.js";
import { parseRedisTarget, type RedisTarget } from "./stores/redis/target.js";

export interface Config {
  host: string;
  port: number;
  tls: { cert: string; key: string } | null;
  databaseUrl: string | null;
  databaseSchema: string;
  dataDir: string;
  /** Parsed from REDIS_URL / REDIS_CLUSTER_NODES; null = in-process store. */
  redis: RedisTarget | null;
  redisKeyPrefix: string;
  /** Worker processes sharing the port (node:cluster); 1 = this process serves. */
  clusterWorkers: number;
  argon2: { memoryKiB: number; iterations: number; parallelism: number };
  /** COOKIE_SECURE, else true exactly when the service itself serves TLS. */
  cookieSecure: boolean;
  tokenIssuer: string;
  sessionTokenTtlSeconds: number;
  sessionTtlSeconds: number;
  maxBodyBytes: number;
  bootstrapFile: string | null;
  totpIssuer: string;
  logLevel: string;
  defaultAppId: string;
  accessTokenTtlSeconds: number;
  /** SIGNIN_MASTER_KEY: seals TOTP secrets and private keys at rest; null = stored in clear (development). */
  masterKey: string | null;
  /** SIGNIN_MASTER_KEY_PREVIOUS: opens values the previous master key sealed, re-sealed at start. */
  masterKeyPrevious: string | null;
  sms: { webhookUrl: string | null; webhookSecret: string | null; devLogCodes: boolean };
  /** NOTIFY_WEBHOOK_URL / _SECRET: where sign-ins from new devices are POSTed (both or neither). */
  notify: { webhookUrl: string; webhookSecret: string } | null;
  trustedProxies: string[];
  shutdownGraceSeconds: number;
  adminToken: string | null;
  corsOrigins: string[];
  hashConcurrency: number;
  hashQueueMax: number;
  limits: LimitsConfig;
  /** Bounds on connections, their timing and HTTP/2 streams (transport/connection-policy.ts). */
  connections: ConnectionLimits;
  /** Where /metrics is served: its own listener (port null = none) and the token scrapers present. */
  metrics: { port: number | null; host: string; token: string | null };
  /** grpc.health.v1 Watch streams open at once, per process and per client IP. */
  healthWatch: { maxStreams: number; maxStreamsPerIp: number };
  /** Passkeys: the relying party (a registrable domain) and the page origins assertions may come from. */
  webauthn: { rpId: string; rpName: string; origins: string[] | null };
  /** OpenTelemetry traces: the OTLP/HTTP (JSON) traces URL; null = tracing off (no SDK started). */
  tracing: { tracesUrl: string } | null;
}

/** The documented variables: name, default, meaning (docs/configuration.md's table is this list). */
export const ENV_VARS: Array<[name: string, fallback: string, meaning: string]> = [
  ["HOST", "127.0.0.1", "Interface to listen on."],
  ["PORT", "8080", "Port for HTTP/1.1 and HTTP/2 (Connect, gRPC, gRPC-Web and the legacy REST paths)."],
  ["TLS_CERT", "", "PEM certificate file; with TLS_KEY, serves HTTPS (ALPN h2 + http/1.1)."],
  ["TLS_KEY", "", "PEM private key file for TLS_CERT."],
  ["DATABASE_URL", "", "PostgreSQL URL; unset = embedded PGlite in DATA_DIR."],
  ["DATABASE_SCHEMA", "public", "PostgreSQL schema holding the tables (created when missing)."],
  ["DATA_DIR", "./data", "PGlite data folder when DATABASE_URL is unset (`memory://` = throw-away)."],
  ["REDIS_URL", "", "redis://host:port/db (or rediss://), redis+cluster://host:port,host:port (Redis Cluster), redis+sentinel://host:port,host:port/name (Sentinel); unset = in-process store (single instance only)."],
  ["REDIS_CLUSTER_NODES", "", "host:port,host:port of a Redis Cluster (instead of a redis+cluster:// REDIS_URL)."],
  ["REDIS_KEY_PREFIX", "signin:", "Prefix of every Redis key."],
  ["ARGON2_MEMORY_KIB", "19456", "argon2id memory cost (KiB)."],
  ["ARGON2_ITERATIONS", "2", "argon2id time cost."],
  ["ARGON2_PARALLELISM", "1", "argon2id parallelism."],
  ["COOKIE_SECURE", "", "true: session cookie is Secure and named __Host-session (serve over HTTPS); unset = true when TLS_CERT/TLS_KEY are set, else false."],
  ["TOKEN_ISSUER", "signin", "`iss` claim of session tokens."],
  ["SESSION_TOKEN_TTL", "900", "Lifetime of a session token (JWT `exp`), seconds."],
  ["SESSION_TTL", "2592000", "Lifetime of a server-side session (refreshable), seconds."],
  ["MAX_BODY_BYTES", "65536", "Largest accepted request body."],
  ["SIGNIN_BOOTSTRAP", "", "JSON file of apps and accounts created at start-up when missing; existing ones are never changed."],
  ["TOTP_ISSUER", "Sign-in", "Issuer shown by authenticator apps."],
  ["WEBAUTHN_RP_ID", "", "Passkeys: relying-party id, the domain passkeys are bound to (e.g. example.com); every WEBAUTHN_ORIGINS host must be it or a subdomain. Unset = HOST when it is a host name, else localhost."],
  ["WEBAUTHN_RP_NAME", "Sign-in", "Passkeys: the service name authenticators show."],
  ["WEBAUTHN_ORIGINS", "", "Passkeys: comma-separated origins (https://app.example.com) whose pages may register and use passkeys; http only for localhost. Unset = the service's own origin: http(s)://WEBAUTHN_RP_ID and the port it listens on."],
  ["LOG_LEVEL", "info", "pino level: fatal, error, warn, info, debug, trace, silent."],
  ["DEFAULT_APP", "default", "App whose accounts the Yeep-style API serves (created when missing)."],
  ["ACCESS_TOKEN_TTL", "86400", "Lifetime of a Cosync-style access-token, seconds."],
  ["SIGNIN_MASTER_KEY", "", "Secret (at least 32 characters) sealing TOTP secrets and private signing keys at rest (AES-256-GCM); required when NODE_ENV=production. Unset: stored in clear, with a warning at start."],
  ["SIGNIN_MASTER_KEY_PREVIOUS", "", "The master key being replaced: values it sealed are re-sealed with SIGNIN_MASTER_KEY at start; remove it once every instance runs with the new key."],
  ["NODE_ENV", "", "`production`: refuse to start without SIGNIN_MASTER_KEY."],
  ["SMS_WEBHOOK_URL", "", "URL receiving {to, code, appId, purpose} to send SMS; unset = development sender (logs)."],
  ["SMS_WEBHOOK_SECRET", "", "HMAC-SHA256 key signing webhook requests (required with SMS_WEBHOOK_URL)."],
  ["SMS_DEV_LOG_CODES", "false", "true: the development sender logs the codes themselves (never in production)."],
  ["NOTIFY_WEBHOOK_URL", "", "URL receiving {event, appId, accountId, ip, userAgent, at} (POST, JSON) for each sign-in from a new device (`sign_in.new_device`); unset = audited only. Needs NOTIFY_WEBHOOK_SECRET."],
  ["NOTIFY_WEBHOOK_SECRET", "", "HMAC-SHA256 key signing NOTIFY_WEBHOOK_URL requests (X-Signin-Timestamp, X-Signin-Signature, as the SMS webhook); needs NOTIFY_WEBHOOK_URL."],
  ["CORS_ORIGINS", "", "Comma-separated origins (https://app.example.com) allowed to call from browsers, with credentials."],
  ["ADMIN_TOKEN", "", "Bearer token of the AdminService (32+ characters); unset = no admin API at all."],
  ["METRICS_PORT", "", "Port of a separate listener serving GET /metrics (Prometheus) on METRICS_HOST (0 = any free port); with CLUSTER_WORKERS the primary serves it for all workers. Unset = no metrics listener."],
  ["METRICS_HOST", "127.0.0.1", "Interface of the METRICS_PORT listener; keep it off the public interface."],
  ["METRICS_TOKEN", "", "Bearer token (32+ characters) scrapers present: required on METRICS_PORT when set, and the only way to read /metrics on PORT (without it, 404 there)."],
  ["MAX_HEALTH_WATCHES", "1024", "grpc.health.v1 Watch streams open at once per process (each worker); further ones are refused (resource_exhausted)."],
  ["MAX_HEALTH_WATCHES_PER_IP", "8", "grpc.health.v1 Watch streams open at once per client IP, per process; further ones are refused (resource_exhausted)."],
  ["SHUTDOWN_GRACE", "10", "On SIGTERM, seconds that requests in flight get to finish before connections close."],
  ["TRUSTED_PROXIES", "", "Comma-separated CIDRs of proxies whose X-Forwarded-For is believed (right-most untrusted hop)."],
  ["CLUSTER_WORKERS", "1", "Worker processes serving the port (node:cluster), restarted when one dies; `auto` = the CPU count. Above 1 needs DATABASE_URL and REDIS_URL."],
  ["HASH_CONCURRENCY", "", "argon2 operations at once per process; unset = the CPU count divided among the workers."],
  ["HASH_QUEUE_MAX", "64", "argon2 operations waiting at most; beyond, sign-in answers a retryable busy error."],
  ["HEADERS_TIMEOUT", "10", "Seconds a new connection gets to send its first bytes (and a TLS handshake to finish), and a request from its first byte to its complete headers; then it is closed."],
  ["REQUEST_TIMEOUT", "30", "Seconds from a request's first byte (HTTP/2: its headers) to its complete body; then the request is dropped (HTTP/1.1: 408 and the connection closed; HTTP/2: the stream cancelled). At least HEADERS_TIMEOUT."],
  ["KEEPALIVE_TIMEOUT", "5", "Seconds a connection with no request in progress stays open (HTTP/1.1 keep-alive; HTTP/2: GOAWAY, then closed)."],
  ["H2_MAX_STREAMS", "100", "Concurrent streams per HTTP/2 connection (advertised in SETTINGS, extra streams refused); a client resetting more streams than this within 10 s is disconnected (rapid reset)."],
  ["MAX_CONNECTIONS", "4096", "Open connections per process (each worker); further connections are closed at once."],
  ["MAX_CONNECTIONS_PER_IP", "128", "Open connections per client IP (the socket's peer, IPv6 per /64) per process; further ones are closed at once. Peers in TRUSTED_PROXIES are exempt."],
  ["LIMIT_IP_REQUESTS", "60/60", "Sign-in requests per client IP: N/seconds."],
  ["LIMIT_IP_FAILURES", "20/600", "Failed sign-ins per client IP across accounts (credential stuffing)."],
  ["LIMIT_ACCOUNT_IP_FAILURES", "5", "Consecutive failures per account and IP before that pair is blocked."],
  ["LIMIT_ACCOUNT_IP_BLOCK", "60/900", "First block / longest block, seconds (each further block doubles)."],
  ["LIMIT_ACCOUNT_FAILURES", "100/3600", "Failures per account across all IPs (NIST 800-63B), enforced as a progressive delay."],
  ["LIMIT_ACCOUNT_DELAY_AFTER", "10", "Failures per account after which each attempt must wait (1 s, doubling, capped)."],
  ["LIMIT_SECOND_FACTOR_FAILURES", "10/900", "Wrong second-factor codes per account."],
  ["LIMIT_SMS_ACCOUNT", "5/3600", "SMS codes sent per account."],
  ["LIMIT_SMS_PHONE", "5/3600", "SMS codes sent per phone number."],
  ["LIMIT_APP_REQUESTS", "60000/60", "Sign-in requests per app, all clients together."],
  ["OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP/HTTP collector base URL (http://collector:4318): spans are exported to its /v1/traces; unset (and no OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) = tracing off, no SDK started."],
  ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "", "Full OTLP/HTTP traces URL, instead of OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces."],
  ["OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "OTLP protocol; only http/json is supported (other values refused at start-up). OTEL_EXPORTER_OTLP_TRACES_PROTOCOL likewise."],
  ["OTEL_SERVICE_NAME", "signin", "service.name of the exported spans (OTEL_RESOURCE_ATTRIBUTES adds attributes)."],
  ["OTEL_TRACES_SAMPLER", "parentbased_always_on", "always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio (a caller's sampled traceparent is followed by the parentbased_ ones)."],
  ["OTEL_TRACES_SAMPLER_ARG", "", "The ratio (0 to 1) of the traceidratio samplers; unset = 1."],
  ["OTEL_SDK_DISABLED", "false", "true = tracing off even with an OTLP endpoint."],
];

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const str = (name: string) => {
    const value = env[name]?.trim();
    return value ? value : (ENV_VARS.find(([n]) => n === name)?.[1] ?? "");
  };
  const int = (name: string, min: number, max: number) => {
    const raw = str(name);
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
    }
    return n;
  };
  const bool = (name: string) => {
    const raw = str(name).toLowerCase();
    if (raw !== "true" && raw !== "false") throw new ConfigError(`${name} must be true or false, got "${raw}"`);
    return raw === "true";
  };
  const oneOf = (name: string, allowed: string[]) => {
    const raw = str(name);
    if (!allowed.includes(raw)) throw new ConfigError(`${name} must be one of ${allowed.join(", ")}, got "${raw}"`);
    return raw;
  };

  const host = checkHost(str("HOST"));
  const cert = str("TLS_CERT");
  const key = str("TLS_KEY");
  if (Boolean(cert) !== Boolean(key)) throw new ConfigError("TLS_CERT and TLS_KEY must be set together");
  if (cert) checkTls(cert, key);
  const schema = str("DATABASE_SCHEMA");
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new ConfigError(`DATABASE_SCHEMA must be a lowercase SQL identifier, got "${schema}"`);
  }
  const databaseUrl = str("DATABASE_URL") || null;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError("DATABASE_URL must start with postgres:// or postgresql://");
  }
  let redis: RedisTarget | null;
  try {
    redis = parseRedisTarget(str("REDIS_URL") || null, str("REDIS_CLUSTER_NODES") || null);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const clusterWorkers = str("CLUSTER_WORKERS") === "auto" ? os.availableParallelism() : int("CLUSTER_WORKERS", 1, 256);
  // Workers are separate processes: PGlite and the in-process store cannot be shared between them.
  if (clusterWorkers > 1 && (!databaseUrl || !redis)) throw new ConfigError("CLUSTER_WORKERS above 1 needs DATABASE_URL and REDIS_URL (shared by the workers)");

  const corsOrigins = str("CORS_ORIGINS").split(",").map((o) => o.trim()).filter(Boolean);
  for (const o of corsOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(o)) throw new ConfigError(`CORS_ORIGINS: "${o}" is not an origin like https://app.example.com`);
  }
  const adminToken = str("ADMIN_TOKEN") || null;
  if (adminToken && adminToken.length < 32) throw new ConfigError("ADMIN_TOKEN must be at least 32 characters");
  const masterKey = str("SIGNIN_MASTER_KEY") || null;
  if (masterKey && masterKey.length < 32) throw new ConfigError("SIGNIN_MASTER_KEY must be at least 32 characters");
  if (!masterKey && str("NODE_ENV") === "production") {
    throw new ConfigError(
      "SIGNIN_MASTER_KEY is required when NODE_ENV=production: without it TOTP secrets and private signing keys are stored in clear; set it to a random secret of at least 32 characters (openssl rand -base64 32)",
    );
  }
  const masterKeyPrevious = str("SIGNIN_MASTER_KEY_PREVIOUS") || null;
  if (masterKeyPrevious && !masterKey) throw new ConfigError("SIGNIN_MASTER_KEY_PREVIOUS needs SIGNIN_MASTER_KEY (the key to re-seal with)");
  if (masterKeyPrevious && masterKeyPrevious.length < 32) throw new ConfigError("SIGNIN_MASTER_KEY_PREVIOUS must be at least 32 characters");
  if (masterKeyPrevious && masterKeyPrevious === masterKey) throw new ConfigError("SIGNIN_MASTER_KEY_PREVIOUS must differ from SIGNIN_MASTER_KEY");
  const metricsToken = str("METRICS_TOKEN") || null;
  if (metricsToken && metricsToken.length < 32) throw new ConfigError("METRICS_TOKEN must be at least 32 characters");
  const metricsPort = str("METRICS_PORT") ? int("METRICS_PORT", 0, 65535) : null;
  const metricsHost = checkHost(str("METRICS_HOST"), "METRICS_HOST");
  if (metricsPort !== null && metricsPort !== 0 && metricsPort === int("PORT", 0, 65535)) throw new ConfigError(`METRICS_PORT must differ from PORT (${metricsPort}): metrics are kept off the API port`);
  const webhookUrl = str("SMS_WEBHOOK_URL") || null;
  if (webhookUrl && !/^https?:\/\//.test(webhookUrl)) throw new ConfigError("SMS_WEBHOOK_URL must be an http(s) URL");
  const webhookSecret = str("SMS_WEBHOOK_SECRET") || null;
  if (webhookUrl && !webhookSecret) throw new ConfigError("SMS_WEBHOOK_SECRET is required with SMS_WEBHOOK_URL");
  const notifyUrl = str("NOTIFY_WEBHOOK_URL") || null;
  const notifySecret = str("NOTIFY_WEBHOOK_SECRET") || null;
  if (notifyUrl && !URL.canParse(notifyUrl)) throw new ConfigError("NOTIFY_WEBHOOK_URL is not a URL");
  if (notifyUrl && !/^https?:$/.test(new URL(notifyUrl).protocol)) throw new ConfigError("NOTIFY_WEBHOOK_URL must be an http(s) URL");
  if (notifyUrl && !notifySecret) throw new ConfigError("NOTIFY_WEBHOOK_SECRET is required with NOTIFY_WEBHOOK_URL (it signs the requests)");
  if (notifySecret && !notifyUrl) throw new ConfigError("NOTIFY_WEBHOOK_URL is required with NOTIFY_WEBHOOK_SECRET (where to send sign-ins from new devices)");
  const rate = (name: string) => {
    const m = /^(\d+)\/(\d+)$/.exec(str(name));
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new ConfigError(`${name} must be N/SECONDS with N, SECONDS >= 1, got "${str(name)}"`);
    return { points: Number(m[1]), seconds: Number(m[2]) };
  };
  const trustedProxies = str("TRUSTED_PROXIES").split(",").map((c) => c.trim()).filter(Boolean);
  try {
    proxyaddr.compile(trustedProxies);
  } catch (err) {
    throw new ConfigError(`TRUSTED_PROXIES: ${(err as Error).message}`);
  }
  const block = rate("LIMIT_ACCOUNT_IP_BLOCK");
  const headersTimeout = int("HEADERS_TIMEOUT", 1, 3600);
  const requestTimeout = int("REQUEST_TIMEOUT", 1, 3600);
  // Node refuses a header deadline beyond the whole request's.
  if (requestTimeout < headersTimeout) throw new ConfigError(`REQUEST_TIMEOUT (${requestTimeout}) must be at least HEADERS_TIMEOUT (${headersTimeout})`);
  const webauthn = webauthnConfig(str("WEBAUTHN_RP_ID"), str("WEBAUTHN_RP_NAME"), str("WEBAUTHN_ORIGINS"), host);
  const defaultAppId = str("DEFAULT_APP");
  if (!isAppId(defaultAppId)) throw new ConfigError(`DEFAULT_APP is not a valid app id: "${defaultAppId}"`);

  return {
    trustedProxies,
    webauthn,
    tracing: tracingConfig(str, bool),
    connections: {
      headersTimeoutMs: headersTimeout * 1000,
      requestTimeoutMs: requestTimeout * 1000,
      keepAliveTimeoutMs: int("KEEPALIVE_TIMEOUT", 1, 3600) * 1000,
      h2MaxStreams: int("H2_MAX_STREAMS", 1, 10_000),
      maxConnections: int("MAX_CONNECTIONS", 1, 1_000_000),
      maxConnectionsPerIp: int("MAX_CONNECTIONS_PER_IP", 1, 1_000_000),
    },
    shutdownGraceSeconds: int("SHUTDOWN_GRACE", 0, 300),
    metrics: { port: metricsPort, host: metricsHost, token: metricsToken },
    healthWatch: { maxStreams: int("MAX_HEALTH_WATCHES", 1, 1_000_000), maxStreamsPerIp: int("MAX_HEALTH_WATCHES_PER_IP", 1, 1_000_000) },
    adminToken,
    corsOrigins,
    hashConcurrency: str("HASH_CONCURRENCY") ? int("HASH_CONCURRENCY", 1, 1024) : Math.max(1, Math.round(os.availableParallelism() / clusterWorkers)),
    hashQueueMax: int("HASH_QUEUE_MAX", 0, 1_000_000),
    limits: {
      ipRequests: rate("LIMIT_IP_REQUESTS"),
      ipFailures: rate("LIMIT_IP_FAILURES"),
      accountIpFailures: int("LIMIT_ACCOUNT_IP_FAILURES", 1, 1000),
      accountIpBlock: { firstSeconds: block.points, maxSeconds: Math.max(block.points, block.seconds) },
      accountFailures: rate("LIMIT_ACCOUNT_FAILURES"),
      accountDelayAfter: int("LIMIT_ACCOUNT_DELAY_AFTER", 0, 1_000_000),
      secondFactorFailures: rate("LIMIT_SECOND_FACTOR_FAILURES"),
      smsPerAccount: rate("LIMIT_SMS_ACCOUNT"),
      smsPerPhone: rate("LIMIT_SMS_PHONE"),
      appRequests: rate("LIMIT_APP_REQUESTS"),
    },
    defaultAppId,
    accessTokenTtlSeconds: int("ACCESS_TOKEN_TTL", 60, 365 * 24 * 3600),
    masterKey,
    masterKeyPrevious,
    sms: { webhookUrl, webhookSecret, devLogCodes: bool("SMS_DEV_LOG_CODES") },
    notify: notifyUrl && notifySecret ? { webhookUrl: notifyUrl, webhookSecret: notifySecret } : null,
    host,
    port: int("PORT", 0, 65535),
    tls: cert ? { cert, key } : null,
    databaseUrl,
    databaseSchema: schema,
    dataDir: str("DATA_DIR"),
    redis,
    redisKeyPrefix: str("REDIS_KEY_PREFIX"),
    clusterWorkers,
    argon2: {
      memoryKiB: int("ARGON2_MEMORY_KIB", 19456, 4 * 1024 * 1024),
      iterations: int("ARGON2_ITERATIONS", 2, 100),
      parallelism: int("ARGON2_PARALLELISM", 1, Math.max(1, os.availableParallelism() * 4)),
    },
    // Served over TLS, the cookie is Secure unless told otherwise; behind a TLS proxy, say COOKIE_SECURE=true.
    cookieSecure: str("COOKIE_SECURE") ? bool("COOKIE_SECURE") : Boolean(cert),
    tokenIssuer: str("TOKEN_ISSUER"),
    sessionTokenTtlSeconds: int("SESSION_TOKEN_TTL", 60, 24 * 3600),
    sessionTtlSeconds: int("SESSION_TTL", 300, 365 * 24 * 3600),
    maxBodyBytes: int("MAX_BODY_BYTES", 1024, 16 * 1024 * 1024),
    bootstrapFile: str("SIGNIN_BOOTSTRAP") || null,
    totpIssuer: str("TOTP_ISSUER"),
    logLevel: oneOf("LOG_LEVEL", ["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
  };
}

// Browsers accept a passkey only for an origin whose host is the RP id or under it, and only over
// https (localhost excepted): a mismatch would make every ceremony fail, so it stops start-up.
// Unset origins (null) stand for the service's own, known once it listens (PORT=0 picks a free port).
function webauthnConfig(rawRpId: string, rpName: string, rawOrigins: string, host: string): Config["webauthn"] {
  const rpId = (rawRpId || (net.isIP(host) ? "localhost" : host)).toLowerCase().replace(/\.$/, "");
  if (net.isIP(rpId) || !/^(?=.{1,253}$)[a-z\d]([a-z\d-]{0,61}[a-z\d])?(\.[a-z\d]([a-z\d-]{0,61}[a-z\d])?)*$/.test(rpId)) {
    throw new ConfigError(`WEBAUTHN_RP_ID: "${rpId}" is not a domain name (passkeys cannot be bound to an IP address); set it to the site's domain, e.g. example.com`);
  }
  if (rpName.length > 64) throw new ConfigError("WEBAUTHN_RP_NAME must be at most 64 characters");
  const listed = rawOrigins.split(",").map((o) => o.trim()).filter(Boolean);
  for (const o of listed) {
    const url = /^https?:\/\/[^/\s]+$/.test(o) && URL.canParse(o) ? new URL(o) : null;
    if (!url || url.origin !== o.toLowerCase()) throw new ConfigError(`WEBAUTHN_ORIGINS: "${o}" is not an origin like https://app.example.com`);
    const h = url.hostname;
    if (h !== rpId && !h.endsWith(`.${rpId}`)) throw new ConfigError(`WEBAUTHN_ORIGINS: "${o}" is not on WEBAUTHN_RP_ID "${rpId}" (its host must be ${rpId} or a subdomain)`);
    if (url.protocol === "http:" && h !== "localhost" && !h.endsWith(".localhost")) throw new ConfigError(`WEBAUTHN_ORIGINS: "${o}" must use https (browsers allow passkeys over http only on localhost)`);
  }
  return { rpId, rpName, origins: listed.length ? listed.map((o) => o.toLowerCase()) : null };
}

// An address or a host name, checked here so that a typo is not reported as a failed name lookup.
function checkHost(host: string, name = "HOST"): string {
  const hint = "use an address of this machine (127.0.0.1, 0.0.0.0 for every IPv4 interface, :: for every interface) or a host name";
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  if (net.isIP(bare)) return bare;
  if (/^[\d.]+$/.test(host) || host.includes(":")) throw new ConfigError(`${name}: "${host}" is not a valid IP address; ${hint}`);
  if (!/^(?=.{1,253}$)[a-z\d]([a-z\d-]{0,61}[a-z\d])?(\.[a-z\d]([a-z\d-]{0,61}[a-z\d])?)*\.?$/i.test(host)) {
    throw new ConfigError(`${name}: "${host}" is neither an IP address nor a host name; ${hint}`);
  }
  return host;
}

// Read now rather than when the port opens, after the database: a wrong path is told at once.
function checkTls(certFile: string, keyFile: string): void {
  const read = (name: string, file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === "ENOENT" ? "no such file" : e.code === "EACCES" ? "permission denied" : e.code === "EISDIR" ? "a folder, not a file" : e.message;
      throw new ConfigError(`${name}: cannot read ${file} (${why}); point ${name} at a readable PEM ${what} file`);
    }
  };
  const cert = read("TLS_CERT", certFile, "certificate");
  const key = read("TLS_KEY", keyFile, "private key");
  try {
    tls.createSecureContext({ cert, key });
  } catch (err) {
    throw new ConfigError(`TLS_CERT and TLS_KEY: ${certFile} and ${keyFile} are not a matching PEM certificate and private key (${(err as Error).message})`);
  }
}

const SAMPLERS = ["always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"];

/**
 * The standard OTEL_* variables this service supports, checked here so a typo stops start-up (the SDK
 * would only log it and fall back). The SDK reads them (and the other OTEL_* it knows) from the process env.
 */
function tracingConfig(str: (name: string) => string, bool: (name: string) => boolean): Config["tracing"] {
  const traces = str("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  const base = str("OTEL_EXPORTER_OTLP_ENDPOINT");
  for (const [name, url] of [["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces], ["OTEL_EXPORTER_OTLP_ENDPOINT", base]]) {
    if (url && !/^https?:\/\/[^/\s]+/.test(url)) throw new ConfigError(`${name} must be an http(s) URL, got "${url}"`);
  }
  for (const name of ["OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"]) {
    const protocol = str(name);
    if (protocol && protocol !== "http/json") throw new ConfigError(`${name}: only http/json is supported, got "${protocol}"`);
  }
  const sampler = str("OTEL_TRACES_SAMPLER");
  if (!SAMPLERS.includes(sampler)) throw new ConfigError(`OTEL_TRACES_SAMPLER must be one of ${SAMPLERS.join(", ")}, got "${sampler}"`);
  const ratio = str("OTEL_TRACES_SAMPLER_ARG");
  if (ratio && !(/^\d+(\.\d+)?$/.test(ratio) && Number(ratio) <= 1)) throw new ConfigError(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1, got "${ratio}"`);
  if (bool("OTEL_SDK_DISABLED") || (!traces && !base)) return null;
  return { tracesUrl: traces || `${base.replace(/\/+$/, "")}/v1/traces` };
}
