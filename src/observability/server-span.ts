// The request's SERVER span as the transports see it (observability/tracing.ts starts it): a property
// of the request, so with tracing off each helper is one property read that finds nothing.
import { SpanStatusCode, type Span } from "@opentelemetry/api";

export const SERVER_SPAN = Symbol("signin.serverSpan");
export type Traced = { [SERVER_SPAN]?: Span };
/** The SERVER span of a request (undefined when tracing is off: a property read, nothing more). */
export const serverSpanOf = (req: object): Span | undefined => (req as Traced)[SERVER_SPAN];

/** Names the request's span after its route (low cardinality) and tags its surface. */
export function nameServerSpan(span: Span, name: string, surface: string): void {
  span.updateName(name);
  span.setAttribute("signin.surface", surface);
  if (surface !== "rpc") span.setAttribute("http.route", name.slice(name.indexOf(" ") + 1));
}

/** How the request ended: ok, refused (a Failure: its reason, e.g. TOO_MANY_ATTEMPTS), or error (ours). */
export function recordOutcome(span: Span | undefined, outcome: "ok" | "refused" | "error", reason?: string): void {
  if (!span) return;
  span.setAttribute("signin.outcome", outcome);
  if (reason) span.setAttribute("signin.failure", reason);
  if (outcome === "error") span.setStatus({ code: SpanStatusCode.ERROR });
}

