// One port for everything: Connect, gRPC and gRPC-Web on every RPC, plus the legacy REST
// paths. Cleartext: a small net.Server sniffs the HTTP/2 preface and hands each connection
// to the HTTP/1.1 or the h2c server. With TLS: ALPN picks h2 or http/1.1.
import { readFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { admitConnections, firstBytesDeadline, http2Options, PenaltyBox, policeHttp1, policeHttp2, startDeadlineChecks, type ConnectionLimits } from "./connection-policy.js";
import { trustProxies } from "./request-context.js";

export type Handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => void;

export interface ListenOptions {
  host: string;
  port: number;
  tls: { cert: string; key: string } | null;
  connections: ConnectionLimits;
  /** Peers whose connections are not capped per IP (they carry many clients). */
  trustedProxies: string[];
}

export interface Listening {
  url: string;
  /** Stops accepting, lets requests in flight finish (up to `graceMs`), then closes connections. */
  close(graceMs?: number): Promise<void>;
}

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export async function listen(inner: Handler, opts: ListenOptions): Promise<Listening> {
  const limits = opts.connections;
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.Http2Session>();
  let inFlight = 0;
  let drained = () => {};
  const handler: Handler = (req, res) => {
    // A dropped HTTP/2 session still delivers the streams of its last read (rapid reset): none is answered.
    const stream = (req as http2.Http2ServerRequest).stream as http2.Http2Stream | undefined;
    if (stream && (stream.destroyed || !stream.session || stream.session.destroyed)) return;
    inFlight++;
    res.once("close", () => {
      if (--inFlight === 0) drained();
    });
    inner(req, res);
  };
  const track = (server: http2.Http2Server | http2.Http2SecureServer) =>
    server.on("session", (session) => {
      sessions.add(session);
      session.once("close", () => sessions.delete(session));
    });
  const trusted = trustProxies(opts.trustedProxies);
  const penalties = new PenaltyBox(trusted);
  let front: net.Server;
  let closeIdle: () => void;

  if (opts.tls) {
    const secure = http2.createSecureServer(
      // A TLS handshake counts as the first bytes.
      { cert: readFileSync(opts.tls.cert), key: readFileSync(opts.tls.key), allowHTTP1: true, handshakeTimeout: limits.headersTimeoutMs, ...http2Options(limits) },
      handler as never,
    );
    track(secure);
    policeHttp1(secure, limits);
    policeHttp2(secure, limits, penalties);
    front = secure;
    closeIdle = () => {};
  } else {
    const h1 = http.createServer(handler as http.RequestListener);
    policeHttp1(h1, limits);
    startDeadlineChecks(h1);
    const h2 = track(http2.createServer(http2Options(limits), handler as never));
    policeHttp2(h2, limits, penalties);
    front = net.createServer((socket) => sniff(socket, h1, h2 as http2.Http2Server, limits));
    closeIdle = () => h1.close(); // closes idle keep-alive connections and stops the deadline checks
  }
  admitConnections(front, limits, trusted, penalties);
  front.on("connection", (socket: net.Socket) => {
    if (socket.destroyed) return; // refused by admitConnections
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    front.once("error", (err) => reject(new Error(listenFailure(err, opts), { cause: err })));
    front.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = front.address() as AddressInfo;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  return {
    url: `${opts.tls ? "https" : "http"}://${host}:${port}`,
    async close(graceMs = 0) {
      const closed = new Promise<void>((resolve) => front.close(() => resolve()));
      for (const session of sessions) session.close(); // GOAWAY: no new streams, open ones finish
      closeIdle();
      if (inFlight > 0 && graceMs > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, graceMs);
          drained = () => (clearTimeout(timer), resolve());
        });
      }
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

// Names the variable to change: the operating system's codes alone read as crashes.
function listenFailure(err: NodeJS.ErrnoException, { host, port }: ListenOptions): string {
  switch (err.code) {
    case "EADDRINUSE":
      return `PORT: ${port} is already in use on ${host}; stop the process using it or choose another PORT (0 = any free port)`;
    case "EACCES":
      return `PORT: this user may not listen on port ${port} (permission denied); choose a PORT above 1023`;
    case "EADDRNOTAVAIL":
      return `HOST: ${host} is not an address of this machine; use one of its addresses, 0.0.0.0 (every IPv4 interface) or :: (every interface)`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_FAIL":
      return `HOST: cannot resolve the host name "${host}" (${err.code}); use an address of this machine such as 127.0.0.1 or 0.0.0.0`;
    default:
      return `cannot listen on ${host}:${port} (HOST, PORT): ${err.message}`;
  }
}

/** Reads until the first bytes tell HTTP/2's preface from anything else, then hands over. */
function sniff(socket: net.Socket, h1: http.Server, h2: http2.Http2Server, limits: ConnectionLimits): void {
  // Keep-alive connections closing after their response once shutdown began is handled by
  // closeIdleConnections; sockets still sniffing are simply destroyed at the end.
  let seen = Buffer.alloc(0);
  const stopDeadline = firstBytesDeadline(socket, limits);
  const onData = (chunk: Buffer) => {
    seen = Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, PREFACE.length);
    if (!seen.subarray(0, n).equals(PREFACE.subarray(0, n))) handOver(h1);
    else if (seen.length >= PREFACE.length) handOver(h2);
  };
  const handOver = (server: net.Server) => {
    stopDeadline(); // from here the server's own header deadline applies
    socket.off("data", onData);
    socket.off("error", onError);
    socket.pause();
    socket.unshift(seen);
    server.emit("connection", socket);
    // The HTTP/2 session reads what is buffered itself; the HTTP/1 parser needs the flow back.
    if (server === h1) process.nextTick(() => socket.resume());
  };
  const onError = () => socket.destroy();
  socket.on("error", onError);
  socket.on("data", onData);
}
