// The core's view of tracing: a step of a request, timed as a child of the request's span. The core
// names its steps and nothing else (no SDK, no attributes that could carry a secret); the tracing
// module (observability/tracing.ts) implements it when OTEL_* turn tracing on. Off, callers hold null
// and call the step directly (`spans ? spans.run(name, () => step()) : step()`): no closure, no span,
// no context on the request path.
export interface Spans {
  /** Runs `step` in a span named `name`, a child of the current one; ended (and failed, if it throws) when it settles. */
  run<T>(name: string, step: () => Promise<T>): Promise<T>;
}
