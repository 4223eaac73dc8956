// Bounds on what one client can hold open: connections per process and per client IP, time to
// send headers and bodies, idle keep-alive, HTTP/2 streams per connection and stream resets.
import type http from "node:http";
import http2 from "node:http2";
import type net from "node:net";
import tls from "node:tls";
import type { TrustFn } from "./request-context.js";
import { clientKey } from "./request-context.js";

export interface ConnectionLimits {
  /** From connect to the first bytes, and from a request's first byte to its complete headers. */
  headersTimeoutMs: number;
  /** From a request's first byte (HTTP/2: its headers) to its complete body. */
  requestTimeoutMs: number;
  /** A connection with no request in progress is closed after this long. */
  keepAliveTimeoutMs: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised and enforced per HTTP/2 connection. */
  h2MaxStreams: number;
  maxConnections: number;
  /** Per socket peer (IPv6 per /64); peers in TRUSTED_PROXIES are not capped (they carry many clients). */
  maxConnectionsPerIp: number;
}

/** A client resetting more streams than H2_MAX_STREAMS within this window is dropped (rapid reset, CVE-2023-44487). */
export const RESET_WINDOW_MS = 10_000;
/** After a session is destroyed, its socket gets this long to flush the GOAWAY before it is destroyed too. */
const LINGER_MS = 500;
/** A peer dropped for rapid reset may not reconnect for this long, doubling per repeat up to PENALTY_MAX_MS. */
export const PENALTY_MS = 10_000;
const PENALTY_MAX_MS = 5 * 60_000;

/**
 * Peers (IPv6 per /64) barred from connecting for a while. Dropping a rapid-reset connection is not
 * enough: the client reconnects at once, and each new connection's first read (64 KiB, over a
 * thousand streams) is parsed before the session can be dropped again.
 */
export class PenaltyBox {
  private readonly barred = new Map<string, { until: number; ms: number }>();

  constructor(
    private readonly trusted: TrustFn,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Bars the peer; a peer punished again within its penalty and the one after gets twice as long. */
  punish(address: string): void {
    if (!address || this.trusted(address, 0)) return; // a proxy carries many clients
    const key = clientKey(address);
    const now = this.now();
    const last = this.barred.get(key);
    const ms = last && now < last.until + last.ms ? Math.min(last.ms * 2, PENALTY_MAX_MS) : PENALTY_MS;
    if (this.barred.size >= 10_000) this.forgetExpired(now);
    this.barred.set(key, { until: now + ms, ms });
  }

  isBarred(key: string): boolean {
    const entry = this.barred.get(key);
    return entry !== undefined && this.now() < entry.until;
  }

  private forgetExpired(now: number): void {
    for (const [key, entry] of this.barred) if (now >= entry.until + entry.ms) this.barred.delete(key);
  }
}

/**
 * Counts connections per peer and refuses those over the caps before anything is read from them.
 * Must be the first "connection" listener: a refused socket is destroyed before others see it.
 */
export function admitConnections(front: net.Server, limits: ConnectionLimits, trusted: TrustFn, penalties: PenaltyBox): void {
  front.maxConnections = limits.maxConnections; // Node closes connections past this at accept time
  const perIp = new Map<string, number>();
  front.prependListener("connection", (socket: net.Socket) => {
    const address = socket.remoteAddress ?? "";
    if (address && trusted(address, 0)) return;
    const key = clientKey(address);
    const open = perIp.get(key) ?? 0;
    if (open >= limits.maxConnectionsPerIp || penalties.isBarred(key)) {
      socket.destroy();
      return;
    }
    perIp.set(key, open + 1);
    socket.once("close", () => {
      const left = (perIp.get(key) ?? 1) - 1;
      if (left > 0) perIp.set(key, left);
      else perIp.delete(key);
    });
  });
}

/** A deadline (not an inactivity timer: a byte every second must not extend it) for the first bytes. */
export function firstBytesDeadline(socket: net.Socket, limits: ConnectionLimits): () => void {
  const timer = setTimeout(() => socket.destroy(), limits.headersTimeoutMs);
  timer.unref();
  return () => clearTimeout(timer);
}

/** HTTP/1.1: Node's own header, request and keep-alive timeouts. */
export function policeHttp1(server: http.Server | http2.Http2SecureServer, limits: ConnectionLimits): void {
  const s = server as http.Server & { connectionsCheckingInterval: number }; // a runtime property, not in @types/node
  s.headersTimeout = limits.headersTimeoutMs;
  s.requestTimeout = limits.requestTimeoutMs;
  s.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // Node checks header and request deadlines on this interval; its default (30 s) would let a 1 s
  // timeout run 30 s.
  s.connectionsCheckingInterval = Math.min(30_000, Math.max(250, Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4));
}

/**
 * Node starts that checking interval on "listening"; a server that is only handed connections
 * (the cleartext sniffer's HTTP/1.1 server) never listens, so its deadlines would never be checked.
 */
export function startDeadlineChecks(server: http.Server): void {
  server.emit("listening");
}

/** HTTP/2 session options: the stream cap is advertised in the first SETTINGS frame. */
export function http2Options(limits: ConnectionLimits): http2.ServerOptions {
  return { settings: { maxConcurrentStreams: limits.h2MaxStreams } };
}

/**
 * Per HTTP/2 session: closed when idle, streams whose body does not arrive in time cancelled,
 * too many client resets end the session, and a session after GOAWAY is destroyed rather than
 * left open (a GOAWAY alone does not close the socket; a client may simply keep it).
 */
export function policeHttp2(server: http2.Http2Server | http2.Http2SecureServer, limits: ConnectionLimits, penalties: PenaltyBox): void {
  const { NGHTTP2_CANCEL, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_NO_ERROR } = http2.constants;
  // Node ends a closed session's socket only once the client closes its side: a client that never
  // does keeps it. The raw socket is taken as it arrives (the session is created synchronously).
  let arriving: net.Socket | undefined;
  server.prependListener(server instanceof tls.Server ? "secureConnection" : "connection", (socket: net.Socket) => {
    arriving = socket;
  });
  server.on("session", (session: http2.ServerHttp2Session) => {
    const socket = arriving;
    arriving = undefined;
    const drop = () => {
      session.destroy();
      setTimeout(() => socket?.destroy(), LINGER_MS).unref();
    };
    let open = 0;
    // The times of the last H2_MAX_STREAMS + 1 resets: one too many within the window when the oldest is recent.
    const resets = new Float64Array(limits.h2MaxStreams + 1).fill(-Infinity);
    let nextReset = 0;
    let idle: NodeJS.Timeout | undefined;
    let hardStop: NodeJS.Timeout | undefined;
    // After a GOAWAY (ours or the client's), streams in flight get one request deadline, then the socket goes.
    const goingAway = () => {
      hardStop ??= setTimeout(drop, limits.requestTimeoutMs).unref();
      if (open === 0) drop();
    };
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        session.close();
        goingAway();
      }, limits.keepAliveTimeoutMs).unref();
    };
    armIdle();
    session.on("goaway", goingAway);
    session.once("close", () => clearTimeout(idle));
    session.on("stream", (stream: http2.ServerHttp2Stream) => {
      open++;
      clearTimeout(idle);
      let cancelled = false;
      const deadline = stream.endAfterHeaders
        ? undefined
        : setTimeout(() => {
            // state.remoteClose: the client sent its whole body (the handler may not have read it yet).
            if (!stream.destroyed && !stream.state.remoteClose) {
              cancelled = true;
              stream.close(NGHTTP2_CANCEL);
            }
          }, limits.requestTimeoutMs).unref();
      stream.once("close", () => {
        clearTimeout(deadline);
        if (--open === 0) {
          if (session.closed) drop();
          else armIdle();
        }
        if (cancelled || stream.rstCode === NGHTTP2_NO_ERROR || stream.rstCode === undefined) return;
        const now = performance.now();
        resets[nextReset] = now;
        nextReset = (nextReset + 1) % resets.length;
        if (now - resets[nextReset]! < RESET_WINDOW_MS && !session.destroyed) {
          session.goaway(NGHTTP2_ENHANCE_YOUR_CALM);
          drop();
          penalties.punish(socket?.remoteAddress ?? "");
        }
      });
    });
  });
}
