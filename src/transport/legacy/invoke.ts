// Shared by both legacy surfaces: the body decoded into the RPC's input message, and a call of the
// implementation the Connect routes serve (through connect's HandlerContext, so headers work alike).
import { create, fromJson, ScalarType, toJson, type DescMessage, type DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, createHandlerContext } from "@connectrpc/connect";
import type { Metrics } from "../../observability/metrics.js";
import { requestContext, requestContextKey, type TrustFn } from "../request-context.js";
import type { Implementations } from "../services/routes.js";
import { toHeaders, type Req, type Res } from "./http.js";
import type { LegacyRoute } from "./route-table.js";
import { duplicateKeyPath } from "./duplicate-keys.js";

export type Unary = (req: unknown, ctx: ReturnType<typeof createHandlerContext>) => Promise<Record<string, unknown>>;

/** The implementation of `method` among the services' (found once, when the routes are bound). */
export function implementationOf(impls: Implementations, method: DescMethod): Unary {
  const entry = impls.find((i) => i.service === method.parent);
  const fn = entry && (entry.impl as unknown as Record<string, Unary | undefined>)[method.localName];
  // A route without an implementation would answer 500 forever: refuse to start instead.
  if (!entry || !fn) throw new Error(`no implementation of ${method.parent.typeName}.${method.name}`);
  return fn.bind(entry.impl);
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
    const duplicate = duplicateKeyPath(text);
    if (duplicate) throw new InvalidBody(`Duplicate key "${duplicate.join(".")}"`, duplicate);
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
    // As in JSON bodies: a repeated field would be read differently by different parsers.
    if (Object.hasOwn(json, key)) throw new InvalidBody(`Duplicate key "${key}"`, [key]);
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

export interface InvokeOptions {
  trust: TrustFn;
  metrics: Metrics;
}

/** Runs the implementation, timed per surface; its errors propagate for the envelope to render. */
export async function invoke(route: LegacyRoute, impl: Unary, input: unknown, req: Req, res: Res, opts: InvokeOptions): Promise<Invoked> {
  const done = opts.metrics.time(route.envelope, route.method.name);
  try {
    const result = await call(route, impl, input, req, res, opts.trust);
    done("ok");
    return result;
  } catch (err) {
    done(err instanceof ConnectError && err.code !== Code.Internal ? "refused" : "error");
    throw err;
  }
}

async function call(route: LegacyRoute, impl: Unary, input: unknown, req: Req, res: Res, trust: TrustFn): Promise<Invoked> {
  const { method, envelope: surface } = route;
  const abort = new AbortController();
  res.once("close", () => abort.abort());
  const ctx = createHandlerContext({
    service: method.parent,
    method,
    protocolName: surface,
    contextValues: createContextValues().set(requestContextKey, requestContext(req, trust, surface)),
    requestMethod: req.method ?? "POST",
    url: route.path,
    requestHeader: toHeaders(req),
    requestSignal: abort.signal,
  });
  const output = await impl(input, ctx);
  const json = toJson(method.output, create(method.output, output), { alwaysEmitImplicit: true }) as Record<string, unknown>;
  return { json, setCookie: ctx.responseHeader.getSetCookie() };
}
