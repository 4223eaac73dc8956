// The Yeep-style REST surface: `POST /api/<service>.<method>`, derived from the same
// generated descriptors and answered by the same implementations as the RPCs.
import { create, fromJson, toJson, type DescMessage, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { ConnectError, createHandlerContext } from "@connectrpc/connect";
import type { Logger } from "../../core/logger.js";
import { failureOf } from "../connect/errors.js";
import type { Implementations } from "../connect/routes.js";
import { BodyTooLarge, readBody, sendJson, toHeaders, type Req, type Res } from "./http.js";
import {
  YEEP_INTERNAL,
  YEEP_METHOD_NOT_ALLOWED,
  YEEP_TOO_LARGE,
  yeepFailure,
  yeepFromConnectError,
  yeepInvalidBody,
  yeepOk,
} from "./yeep-envelope.js";

type Unary = (req: unknown, ctx: ReturnType<typeof createHandlerContext>) => Promise<Record<string, unknown>>;

export interface YeepRoute {
  path: string;
  service: DescService;
  method: DescMethod & { input: DescMessage; output: DescMessage };
  impl: Unary;
}

/** `SessionService.setCookie` -> `/api/session.setCookie`. */
export function yeepRoutes(impls: Implementations): Map<string, YeepRoute> {
  const table = new Map<string, YeepRoute>();
  for (const { service, impl } of impls) {
    const prefix = service.name.replace(/Service$/, "").toLowerCase();
    for (const method of service.methods) {
      const fn = (impl as unknown as Record<string, Unary>)[method.localName]!;
      table.set(`/api/${prefix}.${method.localName}`, { path: `/api/${prefix}.${method.localName}`, service, method, impl: fn.bind(impl) });
    }
  }
  return table;
}

export function yeepHandler(table: Map<string, YeepRoute>, opts: { maxBodyBytes: number; log: Logger }) {
  return async function handle(req: Req, res: Res, path: string): Promise<boolean> {
    const route = table.get(path);
    if (!route) return false;
    if (req.method !== "POST") {
      sendJson(res, 405, YEEP_METHOD_NOT_ALLOWED, { allow: "POST" });
      return true;
    }
    let input: unknown;
    try {
      input = parseInput(route.method.input, await readBody(req, opts.maxBodyBytes), req.headers["content-type"]);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        // The rest of the body is not read: answer and close rather than drain it.
        sendJson(res, 200, YEEP_TOO_LARGE, { connection: "close" });
        return true;
      }
      if (err instanceof InvalidBody) {
        sendJson(res, 200, yeepInvalidBody([{ message: err.message, path: err.path }]));
        return true;
      }
      throw err;
    }

    const abort = new AbortController();
    res.once("close", () => abort.abort());
    const ctx = createHandlerContext({
      service: route.service,
      method: route.method,
      protocolName: "yeep",
      requestMethod: "POST",
      url: path,
      requestHeader: toHeaders(req),
      requestSignal: abort.signal,
    });
    try {
      const output = await route.impl(input, ctx);
      const json = toJson(route.method.output, create(route.method.output, output), { alwaysEmitImplicit: true });
      const setCookie = ctx.responseHeader.getSetCookie();
      sendJson(res, 200, yeepOk(json as Record<string, unknown>), setCookie.length ? { "set-cookie": setCookie } : {});
    } catch (err) {
      const failure = failureOf(err);
      if (failure) sendJson(res, 200, yeepFailure(failure));
      else if (err instanceof ConnectError) sendJson(res, 200, yeepFromConnectError(err));
      else {
        opts.log.error({ err, path }, "unexpected error in legacy handler");
        sendJson(res, 200, YEEP_INTERNAL);
      }
    }
    return true;
  };
}

class InvalidBody extends Error {
  constructor(message: string, readonly path: string[] = []) {
    super(message);
  }
}

function parseInput(schema: DescMessage, body: Buffer, contentType: string | undefined): unknown {
  if (body.length === 0) return create(schema);
  if (contentType && !/^application\/(.+\+)?json\b/i.test(contentType)) {
    throw new InvalidBody(`Content-Type must be application/json, got "${contentType}"`);
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    throw new InvalidBody("Body is not valid JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new InvalidBody("Body must be a JSON object");
  }
  try {
    return fromJson(schema, json as never, { ignoreUnknownFields: true });
  } catch (err) {
    // protobuf-es names the field as "<type>.<field>"; report it as the JSON path.
    const field = /cannot decode (?:field|message) [\w.]+?\.(\w+) from JSON/.exec((err as Error).message)?.[1];
    throw new InvalidBody(field ? `"${field}" has the wrong type` : "Body does not match the request schema", field ? [field] : []);
  }
}
