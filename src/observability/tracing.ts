// OpenTelemetry tracing, on only when an OTLP endpoint is configured (config.tracing): one SERVER span
// per request (handler.ts), child spans for the sign-in steps (the core's Spans seam) and for every
// store call (the store seams wrapped below), exported by OTLP/HTTP (JSON). The standard OTEL_* variables
// (service name, resource attributes, sampler, exporter headers and timeouts, batch sizes) are read by the SDK.
// Off, nothing here is loaded or started: the request path checks one null and calls straight through.
import { context, diag, DiagLogLevel, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import type { IncomingHttpHeaders } from "node:http";
import { SERVER_SPAN, type Traced } from "./server-span.js";
import type { EphemeralStore } from "../core/ephemeral.js";
import type { Logger } from "../core/logger.js";
import type { Spans } from "../core/spans.js";
import type { Database, Queryable } from "../stores/postgres/database.js";
import { VERSION } from "../version.js";

export interface Tracing {
  spans: Spans;
  /** Runs `serve` with the request's SERVER span current (continuing the caller's W3C traceparent); ended when the response closes. */
  serve(req: { method?: string; url?: string; headers: IncomingHttpHeaders }, res: { statusCode: number; writableEnded: boolean; once(event: "close", fn: () => void): unknown }, serve: () => void): void;
  /** The store seams, with a CLIENT span per call. */
  traceStore(store: EphemeralStore, system: "redis" | "memory"): EphemeralStore;
  traceDatabase(db: Database): Database;
  /** Exports what is left (forceFlush) and stops the SDK. */
  close(): Promise<void>;
}

export function startTracing(tracesUrl: string, log: Logger): Tracing {
  // The SDK's own warnings (an export that failed, a dropped batch) go to our log, not nowhere.
  const warn = (message: string, ...args: unknown[]) => log.warn({ details: args.map(String) }, `opentelemetry: ${message}`);
  diag.setLogger({ error: warn, warn, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
  // Ours by default; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) win.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: "signin", [ATTR_SERVICE_VERSION]: VERSION }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl }))],
  });
  // AsyncLocalStorage context and the W3C traceparent/baggage propagators.
  provider.register();
  const tracer = provider.getTracer("signin", VERSION);
  const spans: Spans = { run: (name, step) => inSpan(tracer, name, SpanKind.INTERNAL, undefined, step) };
  return {
    spans,
    serve(req, res, serve) {
      const parent = propagation.extract(ROOT_CONTEXT, req.headers);
      const path = (req.url ?? "/").split("?", 1)[0]!;
      const span = tracer.startSpan(
        req.method ?? "GET",
        { kind: SpanKind.SERVER, attributes: { "http.request.method": req.method ?? "", "url.path": path, "signin.surface": "http" } },
        parent,
      );
      (req as Traced)[SERVER_SPAN] = span;
      res.once("close", () => {
        span.setAttribute("http.response.status_code", res.statusCode);
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        if (!res.writableEnded) span.setAttribute("signin.aborted", true);
        span.end();
      });
      context.with(trace.setSpan(parent, span), serve);
    },
    traceStore: (store, system) => traced(store, tracer, system),
    traceDatabase(db) {
      const query = (q: Queryable) => <T>(text: string, params?: unknown[]) => inSpan(tracer, `postgres ${firstWord(text)}`, SpanKind.CLIENT, dbAttributes(text), () => q.query<T>(text, params));
      return {
        query: query(db),
        transaction: (fn) => inSpan(tracer, "postgres transaction", SpanKind.CLIENT, { "db.system.name": "postgresql" }, () => db.transaction((tx) => fn({ query: query(tx) }))),
        close: () => db.close(),
      };
    },
    async close() {
      await provider.shutdown(); // flushes the batch first
      trace.disable();
      propagation.disable();
      context.disable();
      diag.disable();
    },
  };
}

function inSpan<T>(tracer: Tracer, name: string, kind: SpanKind, attributes: Record<string, string> | undefined, step: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await step();
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.name });
      throw err;
    } finally {
      span.end();
    }
  });
}

// The statement's text only: parameters (hashes, sealed secrets, logins) are never recorded.
const dbAttributes = (text: string) => ({ "db.system.name": "postgresql", "db.operation.name": firstWord(text), "db.query.text": text });
const firstWord = (text: string) => /^[\s(]*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? "QUERY";

/** Every method of the Redis (or in-process) store in a CLIENT span named after it; keys and values are not recorded. */
function traced(store: EphemeralStore, tracer: Tracer, system: string): EphemeralStore {
  const wrappers = new Map<string, (...args: unknown[]) => Promise<unknown>>(); // made once per method
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== "function" || typeof prop !== "string" || prop === "close") return value;
      let wrapper = wrappers.get(prop);
      if (!wrapper) {
        const attributes = { "db.system.name": system, "db.operation.name": prop };
        wrapper = (...args: unknown[]) => inSpan(tracer, `${system} ${prop}`, SpanKind.CLIENT, attributes, () => value.apply(target, args));
        wrappers.set(prop, wrapper);
      }
      return wrapper;
    },
  });
}
