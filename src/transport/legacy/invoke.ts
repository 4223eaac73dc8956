// Shared by both legacy surfaces: a path table derived from the generated descriptors, request
// bodies decoded into the RPC's input message, and a call of the very implementation the
// Connect routes serve (connect's HandlerContext, so headers work the same way).
import { create, fromJson, ScalarType, toJson, type DescMessage, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, createHandlerContext } from "@connectrpc/connect";
import type { Metrics } from "../../observability/metrics.js";
import { requestContext, requestContextKey, type TrustFn } from "../request-context.js";
import type { Implementations } from "../services/routes.js";
import { toHeaders, type Req, type Res } from "./http.js";

type Unary = (req: unknown, ctx: ReturnType<typeof createHandlerContext>) => Promise<Record<string, unknown>>;

export interface LegacyRoute {
  path: string;
  service: DescService;
  method: DescMethod & { input: DescMessage; output: DescMessage };
  impl: Unary;
}

/** One route per method for which `pathOf` names a path. */
export function legacyRoutes(impls: Implementations, pathOf: (service: DescService, method: DescMethod) => string | null) {
  const table = new Map<string, LegacyRoute>();
  for (const { service, impl } of impls) {
    for (const method of service.methods) {
      const path = pathOf(service, method);
      if (!path) continue;
      const fn = (impl as unknown as Record<string, Unary>)[method.localName]!.bind(impl);
      table.set(path, { path, service, method: method as LegacyRoute["method"], impl: fn });
    }
  }
  return table;
}

export class InvalidBody extends Error {
  constructor(
    message: string,
    readonly path: string[] = [],
  ) {
    super(message);
  }
}

/** The body as the route's input message: JSON, or form-urlencoded where `allowForm`. */
export function decodeInput(schema: DescMessage, body: Buffer, contentType: string | undefined, allowForm: boolean): unknown {
  if (body.length === 0) return create(schema);
  const text = body.toString("utf8");
  let json: unknown;
  if (allowForm && contentType && /^application\/x-www-form-urlencoded\b/i.test(contentType)) {
    json = formToJson(schema, new URLSearchParams(text));
  } else {
    if (contentType && !/^application\/(.+\+)?json\b/i.test(contentType)) {
      throw new InvalidBody(`Content-Type must be application/json${allowForm ? " or application/x-www-form-urlencoded" : ""}, got "${contentType}"`);
    }
    try {
      json = JSON.parse(text);
    } catch {
      throw new InvalidBody("Body is not valid JSON");
    }
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new InvalidBody("Body must be a JSON object");
  try {
    return fromJson(schema, json as never, { ignoreUnknownFields: true });
  } catch (err) {
    // protobuf-es names the field as "<type>.<field>"; report it as the JSON path.
    const field = /cannot decode (?:field|message) [\w.]+?\.(\w+) from JSON/.exec((err as Error).message)?.[1];
    throw new InvalidBody(field ? `"${field}" has the wrong type` : "Body does not match the request schema", field ? [field] : []);
  }
}

// Form values are strings; booleans are the only other type the form-posting SDK sends.
function formToJson(schema: DescMessage, form: URLSearchParams): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const [key, value] of form) {
    const field = schema.fields.find((f) => f.jsonName === key || f.name === key);
    const isBool = field?.fieldKind === "scalar" && field.scalar === ScalarType.BOOL;
    json[key] = isBool && /^(true|false|1|0)$/i.test(value) ? /^(true|1)$/i.test(value) : value;
  }
  return json;
}

export interface Invoked {
  json: Record<string, unknown>;
  setCookie: string[];
}

/** Runs the implementation; its ConnectErrors propagate to the caller's envelope. */
export interface InvokeOptions {
  trust: TrustFn;
  metrics: Metrics;
}

export async function invoke(route: LegacyRoute, input: unknown, req: Req, res: Res, surface: "yeep" | "cosync", opts: InvokeOptions): Promise<Invoked> {
  const done = opts.metrics.time(surface, route.method.name);
  try {
    const result = await call(route, input, req, res, surface, opts.trust);
    done("ok");
    return result;
  } catch (err) {
    done(err instanceof ConnectError && err.code !== Code.Internal ? "refused" : "error");
    throw err;
  }
}

async function call(route: LegacyRoute, input: unknown, req: Req, res: Res, surface: "yeep" | "cosync", trust: TrustFn): Promise<Invoked> {
  const abort = new AbortController();
  res.once("close", () => abort.abort());
  const ctx = createHandlerContext({
    service: route.service,
    method: route.method,
    protocolName: surface,
    contextValues: createContextValues().set(requestContextKey, requestContext(req, trust, surface)),
    requestMethod: req.method ?? "POST",
    url: route.path,
    requestHeader: toHeaders(req),
    requestSignal: abort.signal,
  });
  const output = await route.impl(input, ctx);
  const json = toJson(route.method.output, create(route.method.output, output), { alwaysEmitImplicit: true }) as Record<string, unknown>;
  return { json, setCookie: ctx.responseHeader.getSetCookie() };
}
