// CORS for browsers on other origins (CORS_ORIGINS): only listed origins get an answer, with
// credentials (the session cookie); the Connect/gRPC-Web headers are allowed and exposed as the
// Connect documentation prescribes. Unlisted origins get no CORS headers, so browsers refuse.
import { cors as connectCors } from "@connectrpc/connect";
import type { Req, Res } from "./legacy/http.js";

const ALLOWED_HEADERS = [...connectCors.allowedHeaders, "Authorization", "App-Token", "Access-Token", "X-Request-Id"].join(", ");
const EXPOSED_HEADERS = [...connectCors.exposedHeaders, "Retry-After", "X-Request-Id"].join(", ");
const ALLOWED_METHODS = [...new Set([...connectCors.allowedMethods, "POST", "GET"])].join(", ");
const MAX_AGE_SECONDS = "7200";

/** Adds CORS headers for allowed origins; answers preflights. True when the request is fully answered. */
export function applyCors(origins: ReadonlySet<string>, req: Req, res: Res): boolean {
  const origin = req.headers.origin;
  if (typeof origin !== "string" || !origins.has(origin)) return false;
  res.setHeader("access-control-allow-origin", origin);
  res.setHeader("access-control-allow-credentials", "true");
  res.setHeader("vary", "Origin");
  if (req.method === "OPTIONS" && req.headers["access-control-request-method"]) {
    res.writeHead(204, {
      "access-control-allow-methods": ALLOWED_METHODS,
      "access-control-allow-headers": ALLOWED_HEADERS,
      "access-control-max-age": MAX_AGE_SECONDS,
    });
    res.end();
    return true;
  }
  res.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
  return false;
}
