// The request handler behind the port: Connect/gRPC/gRPC-Web routes first, then the
// legacy REST paths, the API documents (JSON, and as a page at /api/docs.html), and a JSON 404 for everything else.
import { Code, ConnectError, createContextValues, type Interceptor } from "@connectrpc/connect";
import type { Metrics } from "../observability/metrics.js";
import { trace } from "@opentelemetry/api";
import { recordOutcome } from "../observability/server-span.js";
import type { Tracing } from "../observability/tracing.js";
import { randomUUID } from "node:crypto";
import type { Logger } from "../core/logger.js";
import type { Jwks } from "../core/tokens/jwks.js";
import { routes, type AdminRoute, type Implementations } from "./services/routes.js";
import { failureThrown, reject } from "./services/errors.js";
import type { WatchLimits } from "./services/health-service.js";
import { cookieAuthenticated, crossOriginRefusal, setsSessionCookie } from "./cross-origin.js";
import { answerScrape, presentsToken } from "./metrics-endpoint.js";
import { sendJson, type Req, type Res } from "./legacy/http.js";
import { legacyOpenApi, yeepOpenApi } from "./legacy/openapi.js";
import { legacyHandler } from "./legacy/pipeline.js";
import { LEGACY_ROUTES } from "./legacy/route-table.js";
import { YEEP_NOT_FOUND } from "./legacy/yeep-envelope.js";
import { requestContext, requestContextKey, type TrustFn } from "./request-context.js";
import { applyCors } from "./cors.js";
import type { Readiness } from "./readiness.js";
import { webPage } from "./web-page.js";
import { apiPage } from "./api-page.js";
import type { Handler } from "./server.js";
import { internalLogged, rpcAdapter } from "./rpc-adapter.js";

export interface HandlerOptions {
  maxBodyBytes: number;
  version: string;
  log: Logger;
  jwks: Jwks;
  trust: TrustFn;
  readiness: Readiness;
  metrics: Metrics;
  admin: AdminRoute | null;
  corsOrigins: string[];
  /** The session cookie's name: requests it authenticates are checked against cross-site forgery. */
  cookieName: string;
  /** METRICS_TOKEN: /metrics on this port answers only a scraper presenting it; null = 404 for everyone. */
  metricsToken: string | null;
  healthWatch: WatchLimits;
  /** OpenTelemetry (OTEL_EXPORTER_OTLP_ENDPOINT); null = off: requests take no tracing path at all. */
  tracing?: Tracing | null;
}

export function createHandler(impls: Implementations, opts: HandlerOptions): Handler {
  const origins = new Set(opts.corsOrigins);
  const tracing = opts.tracing ?? null;
  const legacy = legacyHandler(LEGACY_ROUTES, impls, { ...opts, trustedOrigins: origins });
  const openapi = legacyOpenApi(LEGACY_ROUTES, opts.version);
  const docs = yeepOpenApi(LEGACY_ROUTES, opts.version);
  const docsPage = apiPage(openapi);
  const page = webPage();

  const fallback = async (req: Req, res: Res) => {
    const path = (req.url ?? "/").split("?", 1)[0]!;
    if (page(req, res, path)) return;
    if (path === "/healthz" && (req.method === "GET" || req.method === "HEAD")) return sendJson(res, 200, { status: "ok" });
    // Only for the scraper holding METRICS_TOKEN; anyone else is told nothing is here (METRICS_PORT serves it privately).
    if (path === "/metrics" && req.method === "GET" && opts.metricsToken && presentsToken(req, opts.metricsToken)) {
      // In a cluster, a worker still starting cannot answer the aggregation yet: the scrape fails, retryably.
      return answerScrape(res, opts.metrics.exposition, false);
    }
    if (path === "/readyz" && (req.method === "GET" || req.method === "HEAD")) {
      const report = await opts.readiness();
      return sendJson(res, report.ready ? 200 : 503, { status: report.ready ? "ready" : "not ready", checks: report.checks });
    }
    if (path === "/api/openapi.json" && (req.method === "GET" || req.method === "HEAD")) {
      return sendJson(res, 200, openapi, { "cache-control": "public, max-age=300" });
    }
    if (path === "/api/docs" && (req.method === "GET" || req.method === "HEAD")) {
      return sendJson(res, 200, docs, { "cache-control": "public, max-age=300" });
    }
    if (path === "/api/docs.html" && (req.method === "GET" || req.method === "HEAD")) return docsPage(req, res);
    if (path === "/.well-known/jwks.json" && (req.method === "GET" || req.method === "HEAD")) {
      return sendJson(res, 200, await opts.jwks.keys(), { "cache-control": "public, max-age=300" });
    }
    if (await legacy(req, res, path)) return;
    sendJson(res, 404, path.startsWith("/api/") ? YEEP_NOT_FOUND : { code: "not_found", message: "Not found" });
  };

  const adapter = rpcAdapter({
    log: opts.log,
    routes: routes(impls, opts.readiness, opts.admin, opts.healthWatch),
    interceptors: [
      ...(opts.tracing ? [rpcSpan] : []),
      (next) => async (req) => {
        const done = opts.metrics.time("rpc", req.method.name);
        try {
          const res = await next(req);
          done("ok");
          return res;
        } catch (err) {
          const internal = ConnectError.from(err).code === Code.Internal;
          done(internal ? "error" : "refused");
          // Our own fault: logged here, with its cause and request id (the adapter logs the others).
          if (internal) {
            opts.log.error({ err, requestId: req.header.get("x-request-id"), method: req.method.name }, "unexpected error in rpc");
            req.contextValues.set(internalLogged, true);
          }
          throw err;
        }
      },
      refuseCrossSite(opts.cookieName, origins),
    ],
    readMaxBytes: opts.maxBodyBytes,
    contextValues: (req) => createContextValues().set(requestContextKey, requestContext(req, opts.trust, "rpc")),
    fallback: (req, nodeRes) => {
      const res = nodeRes as Res;
      fallback(req, res).catch((err) => {
        opts.log.error({ err, requestId: req.headers["x-request-id"] }, "unhandled error");
        if (!res.headersSent) sendJson(res, 500, { code: "internal", message: "Internal server error" });
        else res.end();
      });
    },
  });

  // Every request has an id: the caller's X-Request-Id when well-formed, else a new one. It is
  // echoed in the response and appears in the audit events and error logs of the request.
  return (req, res) => {
    if (applyCors(origins, req, res as Res)) return;
    const given = req.headers["x-request-id"];
    const id = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    req.headers["x-request-id"] = id;
    res.setHeader("x-request-id", id);
    if (tracing) tracing.serve(req, res, () => adapter(req, res));
    else adapter(req, res);
  };
}

/** Names the request's SERVER span after the RPC (package.Service/Method) and records how it ended. */
const rpcSpan: Interceptor = (next) => async (req) => {
  const span = trace.getActiveSpan();
  span?.updateName(`${req.service.typeName}/${req.method.name}`);
  span?.setAttributes({ "signin.surface": "rpc", "rpc.system": "connect_rpc", "rpc.service": req.service.typeName, "rpc.method": req.method.name });
  try {
    const res = await next(req);
    recordOutcome(span, "ok");
    return res;
  } catch (err) {
    const code = ConnectError.from(err).code;
    span?.setAttribute("rpc.connect_rpc.error_code", Code[code] ?? String(code));
    recordOutcome(span, code === Code.Internal ? "error" : "refused", failureThrown(err)?.reason);
    throw err;
  }
};

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * CSRF on the RPC routes: a call the session cookie authenticates (and SetCookie) must come from this
 * service's pages or CORS_ORIGINS (permission_denied otherwise). Connect's content types already
 * need a preflight from other origins; this holds even where a browser skipped one.
 */
function refuseCrossSite(cookieName: string, origins: ReadonlySet<string>): Interceptor {
  return (next) => async (req) => {
    if (req.requestMethod !== "GET" && (cookieAuthenticated(req.header, cookieName) || setsSessionCookie(req.method))) {
      const refusal = crossOriginRefusal(req.header, new URL(req.url).host, origins);
      if (refusal) reject("FORBIDDEN", { message: refusal });
    }
    return next(req);
  };
}
