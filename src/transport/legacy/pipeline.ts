// The one legacy pipeline (read body -> decode -> invoke -> render) for both REST surfaces; what
// differs between them is only how answers look, and each route's envelope decides that.
import { ConnectError } from "@connectrpc/connect";
import { failureOf, type Failure } from "../../core/failure.js";
import type { Logger } from "../../core/logger.js";
import { failureThrown } from "../services/errors.js";
import { nameServerSpan, recordOutcome, serverSpanOf } from "../../observability/server-span.js";
import type { Implementations } from "../services/routes.js";
import { cosyncEnvelope } from "./cosync-envelope.js";
import { cookieAuthenticated, crossOriginRefusal, requestHost, setsSessionCookie } from "../cross-origin.js";
import { BodyTooLarge, readBody, sendJson, toHeaders, type Req, type Res } from "./http.js";
import { decodeInput, implementationOf, InvalidBody, invoke, type Invoked, type InvokeOptions } from "./invoke.js";
import type { EnvelopeName, LegacyRoute } from "./route-table.js";
import { yeepEnvelope } from "./yeep-envelope.js";

export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string | string[]>;
}

/** How one surface renders each outcome of the pipeline. */
export interface Envelope {
  /** Whether form-urlencoded bodies are accepted besides JSON. */
  allowForm: boolean;
  /** Whether the session cookie authenticates on this surface (then cookie requests are checked for CSRF). */
  sessionCookie: boolean;
  ok(result: Invoked): Answer;
  failure(failure: Failure): Answer;
  invalidBody(message: string, path: string[]): Answer;
  /** RPC-layer errors that carry no Failure (a cancelled request); without it they are internal errors. */
  fromConnectError?(err: ConnectError): Answer;
  methodNotAllowed: Answer;
  /** Should close the connection: the rest of the body is left unread rather than drained. */
  tooLarge: Answer;
  internal: Answer;
}

const ENVELOPES: Record<EnvelopeName, Envelope> = { yeep: yeepEnvelope, cosync: cosyncEnvelope };

export type LegacyOptions = {
  maxBodyBytes: number;
  log: Logger;
  /** The session cookie's name (COOKIE_SECURE decides it). */
  cookieName: string;
  /** CORS_ORIGINS: the other origins whose pages may call with the cookie. */
  trustedOrigins: ReadonlySet<string>;
} & InvokeOptions;

/** Answers the table's paths (true), or leaves the request to the caller (false). */
export function legacyHandler(table: readonly LegacyRoute[], impls: Implementations, opts: LegacyOptions) {
  const byPath = new Map(table.map((route) => [route.path, { route, impl: implementationOf(impls, route.method), envelope: ENVELOPES[route.envelope] }]));
  // The request's span (tracing on) records how it ended: ok, refused with its reason, or our error.
  const send = (req: Req, res: Res, a: Answer, outcome: "ok" | "refused" | "error", reason?: string) => {
    recordOutcome(serverSpanOf(req), outcome, reason);
    sendJson(res, a.status, a.body, a.headers);
  };

  return async function handle(req: Req, res: Res, path: string): Promise<boolean> {
    const found = byPath.get(path);
    if (!found) return false;
    const { route, impl, envelope } = found;
    const span = serverSpanOf(req);
    if (span) nameServerSpan(span, `${req.method} ${route.path}`, route.envelope);
    if (req.method !== "POST" && !(req.method === "GET" && route.alsoGet)) return (send(req, res, envelope.methodNotAllowed, "refused", "METHOD_NOT_ALLOWED"), true);
    let input: unknown;
    try {
      const body = req.method === "GET" ? Buffer.alloc(0) : await readBody(req, opts.maxBodyBytes);
      const refused = forgeryCheck(req, route, envelope, opts);
      if (refused) return (send(req, res, refused, "refused", "FORBIDDEN"), true);
      input = decodeInput(route.method.input, body, req.headers["content-type"], envelope.allowForm);
    } catch (err) {
      if (err instanceof BodyTooLarge) return (send(req, res, envelope.tooLarge, "refused", "BODY_TOO_LARGE"), true);
      if (err instanceof InvalidBody) return (send(req, res, envelope.invalidBody(err.message, err.path), "refused", "INVALID_BODY"), true);
      throw err;
    }
    try {
      send(req, res, envelope.ok(await invoke(route, impl, input, req, res, opts)), "ok");
    } catch (err) {
      const failure = failureThrown(err);
      if (failure) send(req, res, envelope.failure(failure), "refused", failure.reason);
      else if (err instanceof ConnectError && envelope.fromConnectError) send(req, res, envelope.fromConnectError(err), "refused", String(err.code));
      else {
        opts.log.error({ err, path, requestId: req.headers["x-request-id"] }, "unexpected error in legacy handler");
        send(req, res, envelope.internal, "error");
      }
    }
    return true;
  };
}

const JSON_TYPE = /^application\/(.+\+)?json\b/i;

/**
 * CSRF: a request the session cookie authenticates (and every sign-in that sets it: login CSRF) must
 * come from this service's own pages or CORS_ORIGINS, and (cookie) carry a JSON body, which a page on
 * another origin cannot send without a CORS preflight, even when the body is empty.
 */
function forgeryCheck(req: Req, route: LegacyRoute, envelope: Envelope, opts: LegacyOptions): Answer | null {
  if (!envelope.sessionCookie) return null;
  const headers = toHeaders(req);
  const byCookie = cookieAuthenticated(headers, opts.cookieName);
  if (!byCookie && !setsSessionCookie(route.method)) return null;
  const refusal = crossOriginRefusal(headers, requestHost(req), opts.trustedOrigins);
  if (refusal) return envelope.failure(failureOf("FORBIDDEN", { message: refusal }));
  const type = req.headers["content-type"];
  if (byCookie && !(type && JSON_TYPE.test(type))) {
    return envelope.invalidBody(`Content-Type must be application/json with the session cookie, got ${type ? `"${type.slice(0, 64)}"` : "none"}`, []);
  }
  return null;
}
