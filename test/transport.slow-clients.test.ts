// Slow and idle clients cannot hold the port: first-byte, header, body and keep-alive deadlines,
// HTTP/2 stream cap and rapid reset, connections per IP (small configured values, real sockets).
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { PENALTY_MS, PenaltyBox } from "../src/transport/connection-policy.js";
import { clientKey, trustProxies } from "../src/transport/request-context.js";
import { END_HEADERS, END_STREAM, frame, GOAWAY, HEADERS, openSignIn, PREFACE, RST_STREAM, SETTINGS } from "./support/h2-frames.js";
import { COYOTE, startTestService, type TestService } from "./support/service.js";

const H2_MAX_STREAMS = 10;
const PER_IP = 20;

/** Resolves with the milliseconds until the socket closed; rejects after `withinMs` (the socket is then destroyed). */
function closedWithin(socket: net.Socket, withinMs: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (socket.destroyed && socket.closed) return resolve(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`socket still open after ${withinMs} ms`));
    }, withinMs);
    socket.once("close", () => (clearTimeout(timer), resolve(Date.now() - started)));
  });
}

/** Whether the server closed the socket within `ms` (the socket is left as it is). */
function closedBy(socket: net.Socket, ms: number): Promise<boolean> {
  if (socket.closed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once("close", () => (clearTimeout(timer), resolve(true)));
  });
}

async function connect(url: string, allowHalfOpen = false, localAddress?: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port), allowHalfOpen, localAddress });
  socket.on("error", () => {});
  socket.resume(); // reading, so that the server's FIN is seen
  await new Promise((resolve) => socket.once("connect", resolve));
  return socket;
}

// HPACK static table: :method GET (2), :scheme http (6), :path / (4); literal :authority (1) "x".
const get = (id: number) => frame(HEADERS, END_HEADERS | END_STREAM, id, Buffer.from([0x82, 0x86, 0x84, 0x41, 1, 0x78]));
const code = (n: number) => Buffer.from([0, 0, 0, n]);

/** Collects the server's frames on a raw HTTP/2 socket. */
function readFrames(socket: net.Socket) {
  const frames: Array<{ type: number; streamId: number; payload: Buffer }> = [];
  let buf = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 9 && buf.length >= 9 + buf.readUIntBE(0, 3)) {
      const length = buf.readUIntBE(0, 3);
      frames.push({ type: buf[3]!, streamId: buf.readUInt32BE(5) & 0x7fffffff, payload: buf.subarray(9, 9 + length) });
      buf = buf.subarray(9 + length);
    }
  });
  return frames;
}

/** Waits (bounded) until `ready()` holds, checking on each event-loop turn with a short timer. */
async function until(ready: () => boolean, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("slow and idle clients are disconnected", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({
      HEADERS_TIMEOUT: "1",
      REQUEST_TIMEOUT: "2",
      KEEPALIVE_TIMEOUT: "1",
      H2_MAX_STREAMS: String(H2_MAX_STREAMS),
    });
  });
  afterAll(() => svc?.close());

  it("a connection that sends nothing is closed after HEADERS_TIMEOUT (the protocol sniffer's first-byte deadline)", async () => {
    const socket = await connect(svc.url);
    expect(await closedWithin(socket, 3000)).toBeGreaterThanOrEqual(900);
  });

  it("slowloris: a header line every 300 ms is closed by HEADERS_TIMEOUT", async () => {
    const socket = await connect(svc.url);
    socket.write("POST /api/session.setCookie HTTP/1.1\r\nHost: x\r\n");
    let n = 0;
    const drip = setInterval(() => socket.writable && socket.write(`X-Slow-${n++}: y\r\n`), 300);
    try {
      const ms = await closedWithin(socket, 3000);
      expect(ms).toBeGreaterThanOrEqual(900);
      expect(n).toBeLessThan(10); // closed after a few lines, not when the client stopped
    } finally {
      clearInterval(drip);
    }
  });

  it("a body trickling one byte at a time is dropped by REQUEST_TIMEOUT", async () => {
    const socket = await connect(svc.url);
    let answer = "";
    socket.on("data", (d: Buffer) => (answer += d.toString()));
    socket.write("POST /api/session.setCookie HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n");
    const drip = setInterval(() => socket.writable && socket.write("{"), 200);
    try {
      expect(await closedWithin(socket, 4000)).toBeGreaterThanOrEqual(1900);
      expect(answer).toMatch(/^HTTP\/1.1 408/);
    } finally {
      clearInterval(drip);
    }
  });

  it("an idle keep-alive connection is closed after KEEPALIVE_TIMEOUT", async () => {
    const socket = await connect(svc.url);
    let answer = "";
    socket.on("data", (d: Buffer) => (answer += d.toString()));
    socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => answer.includes('{"status":"ok"}'), 2000);
    expect(await closedWithin(socket, 2500)).toBeLessThan(2500);
  });

  it("HTTP/2: SETTINGS advertise H2_MAX_STREAMS, streams beyond it are refused, unfinished bodies are cancelled", async () => {
    const socket = await connect(svc.url);
    const frames = readFrames(socket);
    const ids = Array.from({ length: H2_MAX_STREAMS + 3 }, (_, i) => 1 + 2 * i);
    // Our SETTINGS are not acknowledged: the server enforces its limit on streams anyway (REFUSED_STREAM).
    socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), ...ids.map(openSignIn)]));
    await until(() => frames.filter((f) => f.type === RST_STREAM).length >= 3, 1500);
    const settings = frames.find((f) => f.type === SETTINGS && f.payload.length > 0)!;
    const advertised = new Map<number, number>();
    for (let i = 0; i + 6 <= settings.payload.length; i += 6) advertised.set(settings.payload.readUInt16BE(i), settings.payload.readUInt32BE(i + 2));
    expect(advertised.get(0x3)).toBe(H2_MAX_STREAMS); // SETTINGS_MAX_CONCURRENT_STREAMS
    const refused = frames.filter((f) => f.type === RST_STREAM).map((f) => [f.streamId, f.payload.readUInt32BE(0)]);
    expect(refused).toStrictEqual(ids.slice(H2_MAX_STREAMS).map((id) => [id, 0x7])); // REFUSED_STREAM
    // The admitted streams never send their bodies: each is cancelled after REQUEST_TIMEOUT.
    await until(() => frames.filter((f) => f.type === RST_STREAM).length >= ids.length, 3500);
    const cancelled = frames.filter((f) => f.type === RST_STREAM && f.payload.readUInt32BE(0) === 0x8).map((f) => f.streamId);
    expect(cancelled.sort((a, b) => a - b)).toStrictEqual(ids.slice(0, H2_MAX_STREAMS));
    socket.destroy();
  });

  it("HTTP/2 rapid reset: a burst of stream opens and resets gets the connection destroyed, and its IP barred for a while", async () => {
    const attacker = "127.0.0.7"; // its own address: it is barred afterwards
    const socket = await connect(svc.url, false, attacker);
    const frames = readFrames(socket);
    const burst = Array.from({ length: 3 * H2_MAX_STREAMS }, (_, i) => [get(1 + 2 * i), frame(RST_STREAM, 0, 1 + 2 * i, code(0x8))]).flat();
    socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), ...burst]));
    expect(await closedWithin(socket, 1500)).toBeLessThan(1500); // well before KEEPALIVE_TIMEOUT + HEADERS_TIMEOUT
    const goaway = frames.find((f) => f.type === GOAWAY);
    expect(goaway?.payload.readUInt32BE(4)).toBe(0xb); // ENHANCE_YOUR_CALM
    // Reconnecting is how the attack goes on: refused at accept for PENALTY_MS; another peer is not.
    const again = await connect(svc.url, false, attacker);
    const other = await connect(svc.url, false, "127.0.0.8");
    try {
      expect(await closedBy(again, 300)).toBe(true);
      expect(await closedBy(other, 300)).toBe(false);
    } finally {
      again.destroy();
      other.destroy();
    }
  });

  it("HTTP/2: after GOAWAY the server destroys the connection, even when the client never closes its side", async () => {
    const socket = await connect(svc.url, true); // keeps its side open after the server's FIN
    const ended = new Promise((resolve) => socket.once("end", resolve));
    socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(GOAWAY, 0, 0, Buffer.concat([code(0), code(0)]))]));
    await ended;
    // Only a socket the server destroyed answers these bytes with a reset (a half-closed one takes them).
    const ping = setInterval(() => socket.writable && socket.write(frame(0x6, 0, 0, Buffer.alloc(8))), 100);
    try {
      expect(await closedWithin(socket, 1500)).toBeLessThan(1500); // before KEEPALIVE_TIMEOUT + the linger
    } finally {
      clearInterval(ping);
    }
  });

});

describe("connections per client IP", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ HEADERS_TIMEOUT: "10", MAX_CONNECTIONS_PER_IP: String(PER_IP) });
  });
  afterAll(() => svc?.close());

  it("connections beyond MAX_CONNECTIONS_PER_IP are closed at once; a sign-in from another IP succeeds within 2 s", async () => {
    const sockets = await Promise.all(Array.from({ length: PER_IP + 5 }, () => connect(svc.url)));
    try {
      const closed = await Promise.all(sockets.map((s) => closedBy(s, 500)));
      expect(closed.filter(Boolean)).toHaveLength(5);
      const started = Date.now();
      const res = await signInFrom("127.0.0.2", svc.url);
      expect(res).toMatchObject({ status: 200, body: { user: { id: COYOTE.id } } });
      expect(Date.now() - started).toBeLessThan(2000);
      const extra = await connect(svc.url); // 127.0.0.1 is still full
      sockets.push(extra);
      expect(await closedBy(extra, 500)).toBe(true);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});

describe("penalty box for rapid-reset peers", () => {
  it("bars a peer (IPv6 per /64) for PENALTY_MS, twice as long when it offends again right after, never a trusted proxy", () => {
    let now = 0;
    const box = new PenaltyBox(trustProxies(["10.0.0.1"]), () => now);
    box.punish("2001:db8::1");
    expect(box.isBarred(clientKey("2001:db8::ffff"))).toBe(true); // same /64
    expect(box.isBarred(clientKey("2001:db8:0:1::1"))).toBe(false);
    now = PENALTY_MS;
    expect(box.isBarred(clientKey("2001:db8::1"))).toBe(false);
    box.punish("2001:db8::1"); // again within its penalty and the one after
    now += 2 * PENALTY_MS - 1;
    expect(box.isBarred(clientKey("2001:db8::1"))).toBe(true);
    now += 1;
    expect(box.isBarred(clientKey("2001:db8::1"))).toBe(false);
    box.punish("10.0.0.1");
    expect(box.isBarred("10.0.0.1")).toBe(false);
  });
});

describe("connection bounds configuration", () => {
  it("has bounded defaults, and refuses a header deadline longer than the request's", () => {
    expect(loadConfig({}).connections).toStrictEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      h2MaxStreams: 100,
      maxConnections: 4096,
      maxConnectionsPerIp: 128,
    });
    expect(() => loadConfig({ HEADERS_TIMEOUT: "20", REQUEST_TIMEOUT: "10" })).toThrow("REQUEST_TIMEOUT (10) must be at least HEADERS_TIMEOUT (20)");
    expect(() => loadConfig({ H2_MAX_STREAMS: "0" })).toThrow("H2_MAX_STREAMS must be a whole number from 1 to 10000");
  });
});

function signInFrom(localAddress: string, url: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/api/session.setCookie`, { method: "POST", localAddress, headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end(JSON.stringify({ user: COYOTE.username, password: COYOTE.password }));
  });
}
