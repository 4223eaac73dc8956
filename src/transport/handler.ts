// The request handler behind the port: Connect/gRPC/gRPC-Web routes first, then the
// legacy REST paths, the API documents (JSON, and as a page at /api/docs.html), and a JSON 404 for everything else.
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import type { Metrics } from "../observability/metrics.js";
import { randomUUID } from "node:crypto";
import type { Logger } from "../core/logger.js";
import type { Jwks } from "../core/tokens/jwks.js";
import { routes, type AdminRoute, type Implementations } from "./services/routes.js";
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
}

export function createHandler(impls: Implementations, opts: HandlerOptions): Handler {
  const legacy = legacyHandler(LEGACY_ROUTES, impls, opts);
  const openapi = legacyOpenApi(LEGACY_ROUTES, opts.version);
  const docs = yeepOpenApi(LEGACY_ROUTES, opts.version);
  const docsPage = apiPage(openapi);
  const page = webPage();

  const fallback = async (req: Req, res: Res) => {
    const path = (req.url ?? "/").split("?", 1)[0]!;
    if (page(req, res, path)) return;
    if (path === "/healthz" && (req.method === "GET" || req.method === "HEAD")) return sendJson(res, 200, { status: "ok" });
    if (path === "/metrics" && req.method === "GET") {
      // In a cluster, a worker still starting cannot answer the aggregation yet: the scrape fails, retryably.
      const text = await opts.metrics.exposition().catch(() => null);
      if (text === null) return sendJson(res, 503, { status: "metrics unavailable, retry" });
      res.writeHead(200, { "content-type": opts.metrics.registry.contentType });
      return void res.end(text);
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
    routes: routes(impls, opts.readiness, opts.admin),
    interceptors: [
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
  const origins = new Set(opts.corsOrigins);
  return (req, res) => {
    if (applyCors(origins, req, res as Res)) return;
    const given = req.headers["x-request-id"];
    const id = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    req.headers["x-request-id"] = id;
    res.setHeader("x-request-id", id);
    adapter(req, res);
  };
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;
