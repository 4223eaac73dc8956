// Who is asking, as the core sees every request: the surface it came through, the client IP
// (as the limits group it), the user agent and the request id. Filled in by the transport.
export interface RequestContext {
  surface: "yeep" | "cosync" | "rpc";
  ip: string;
  userAgent: string;
  requestId: string;
  /** A device credential the caller presented (cookie `device`, or `deviceToken`), unverified. */
  deviceToken?: string;
}

/** For work that no request started (start-up, tests). */
export const UNKNOWN_CONTEXT: RequestContext = { surface: "rpc", ip: "unknown", userAgent: "", requestId: "" };
