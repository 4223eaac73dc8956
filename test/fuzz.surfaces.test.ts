// Generated garbage at every legacy path and every Connect method (Connect JSON and proto, gRPC-Web):
// never a 5xx, always the surface's documented envelope, and the service alive afterwards.
// A short run in `npm test` (fixed seed, printed on failure); `npm run fuzz` runs FUZZ_RUNS (default 20000).
import { create, toBinary, type DescMethod } from "@bufbuild/protobuf";
import fc from "fast-check";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppUserService } from "../gen/signin/appuser/v1/appuser_pb.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { SessionService } from "../gen/signin/session/v1/session_pb.js";
import { TotpService } from "../gen/signin/session/v1/totp_pb.js";
import { UserService } from "../gen/signin/session/v1/user_pb.js";
import { LEGACY_ROUTES } from "../src/transport/legacy/route-table.js";
import { APP_TOKENS, COSYNC_APPS, WILE } from "./support/cosync.js";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 120);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : RUNS > 1000 ? Date.now() % 2 ** 31 : 20261129;
const MAX_BODY_BYTES = 16384;

const RPC_METHODS: DescMethod[] = [SessionService, UserService, TotpService, AppUserService, Health].flatMap((s) => s.methods.filter((m) => m.methodKind === "unary"));

type Target = { kind: "yeep" | "cosync"; path: string; fields: string[] } | { kind: "connect-json" | "connect-proto" | "grpc-web"; path: string; fields: string[]; method: DescMethod };
const TARGETS: Target[] = [
  ...LEGACY_ROUTES.map((r): Target => ({ kind: r.envelope, path: r.path, fields: r.method.input.fields.map((f) => f.jsonName) })),
  ...RPC_METHODS.flatMap((method) =>
    (["connect-json", "connect-proto", "grpc-web"] as const).map((kind): Target => ({
      kind,
      path: `/${method.parent.typeName}/${method.name}`,
      fields: method.input.fields.map((f) => f.jsonName),
      method,
    })),
  ),
];

// Values of every JSON type, strings with NUL, lone surrogates and huge lengths.
const nasty = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom("\u0000", "a\ud800b", "\udfff", "x".repeat(MAX_BODY_BYTES / 2), "__proto__", "constructor", "coyote", "TOTP", "123456"),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);
const fieldsObject = (fields: string[]) =>
  fc.dictionary(fc.oneof(fc.constantFrom(...(fields.length ? fields : ["x"])), fc.string({ maxLength: 8 })), nasty, { maxKeys: 5 }).map((o) => JSON.stringify(o));

/** A body as bytes: JSON of the method's fields with wrong types, raw texts with traps, or random bytes. */
const body = (t: Target) =>
  fc.oneof(
    fieldsObject(t.fields).map((s) => Buffer.from(s)),
    fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? "null")),
    fc.nat({ max: 20000 }).map((n) => Buffer.from("[".repeat(n) + "]".repeat(n))), // deep nesting
    fc.constantFrom(...t.fields, "x").map((f) => Buffer.from(`{"${f}":"a","${f}":"b","__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}`)),
    fc.constantFrom(...t.fields, "x").map((f) => Buffer.from(`${f}=a&${f}=b&${f}[]=c&__proto__[x]=1&${f}[0]=d`)), // form arrays
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)), // invalid UTF-8, protobuf garbage
    fc.constant(Buffer.from([0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d])),
    fc.constant(Buffer.alloc(0)),
  );

const contentType = fc.constantFrom(
  undefined,
  "application/json",
  "application/x-www-form-urlencoded",
  "text/plain",
  "application/proto",
  "application/grpc-web+proto",
  "application/grpc-web+json",
  "multipart/form-data; boundary=x",
  "application/json; charset=utf-16",
);
const encoding = fc.constantFrom("none", "none", "gzip", "gzip-garbage", "deflate", "br-garbage");

/** The request as it goes out: an envelope for gRPC-Web (sometimes flagged compressed), the encoding applied. */
function request(t: Target, raw: Buffer, type: string | undefined, enc: string, valid: boolean) {
  const headers: Record<string, string> = { "app-token": APP_TOKENS.acme };
  let bytes = raw;
  if ("method" in t && valid) {
    // A well-formed message now and then, so the methods themselves run with generated values.
    try {
      bytes = Buffer.from(toBinary(t.method.input, create(t.method.input, {})));
    } catch {
      // keep the raw bytes
    }
  }
  const compressed = enc === "gzip" ? gzipSync(bytes) : enc === "gzip-garbage" ? gzipSync(bytes).subarray(0, 10) : enc === "br-garbage" ? Buffer.from("not brotli") : bytes;
  if (t.kind === "grpc-web") {
    headers["content-type"] = type?.startsWith("application/grpc-web") ? type : "application/grpc-web+proto";
    if (enc !== "none") headers["grpc-encoding"] = enc.split("-")[0]!;
    const head = Buffer.alloc(5);
    head[0] = enc === "none" ? 0 : 1;
    head.writeUInt32BE(compressed.length, 1);
    return { headers, bytes: Buffer.concat([head, compressed]) };
  }
  if (t.kind === "connect-json") headers["content-type"] = type === undefined || type.includes("proto") ? "application/json" : type;
  else if (t.kind === "connect-proto") headers["content-type"] = "application/proto";
  else if (type) headers["content-type"] = type;
  if (t.kind === "connect-json" || t.kind === "connect-proto") {
    if (enc !== "none") headers["content-encoding"] = enc.split("-")[0]!;
  } else bytes = raw;
  return { headers, bytes: t.kind === "yeep" || t.kind === "cosync" ? raw : compressed };
}

/** What the surface documents, checked on one answer; a message when it is not that. */
function violation(t: Target, status: number, text: string, enc: string): string | null {
  const json = (() => {
    try {
      return JSON.parse(text) as Record<string, any>;
    } catch {
      return undefined;
    }
  })();
  switch (t.kind) {
    case "yeep":
      if (status >= 500) return `HTTP ${status}`;
      if (typeof json?.ok !== "boolean") return "not the Yeep envelope";
      if (!json.ok && (typeof json.error?.code !== "number" || json.error.code === 500)) return `error code ${json.error?.code}`;
      return null;
    case "cosync":
      if (status >= 500) return `HTTP ${status}`;
      if (status !== 200 && (typeof json?.code !== "number" || typeof json.message !== "string" || json.code === 500)) return "not the Cosync error envelope";
      return null;
    case "connect-json":
    case "connect-proto":
      // An unsupported encoding is "unimplemented" (HTTP 501) by the Connect protocol, naming the accepted ones.
      if (status === 501 && json?.code === "unimplemented" && enc === "deflate") return null;
      if (status >= 500) return `HTTP ${status} ${text.slice(0, 200)}`;
      if (status === 415) return null; // a content type the protocol does not know: its own bare answer
      if (status !== 200 && typeof json?.code !== "string") return "not a Connect error";
      return null;
    case "grpc-web": {
      if (status >= 500) return `HTTP ${status}`;
      const grpcStatus = /grpc-status: ?(\d+)/.exec(text)?.[1];
      if (status === 200 && grpcStatus === undefined) return "no grpc-status";
      if (grpcStatus === "13" || grpcStatus === "2") return `grpc-status ${grpcStatus} ${text.slice(-200)}`;
      if (grpcStatus === "12" && enc !== "deflate") return "unimplemented for a supported encoding";
      return null;
    }
  }
}

describe("fuzz: generated bodies at every legacy path and Connect method", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(
      { MAX_BODY_BYTES: String(MAX_BODY_BYTES), LIMIT_IP_REQUESTS: "1000000/60" },
      [COYOTE, WILE],
      COSYNC_APPS,
    );
  });
  afterAll(() => svc?.close());

  it(`${RUNS} generated requests (seed ${SEED}): no 5xx, the documented envelope, the service alive`, { timeout: 60_000 + RUNS * 200 }, async () => {
    const rssBefore = process.memoryUsage().rss;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...TARGETS).chain((t) => fc.tuple(fc.constant(t), body(t), contentType, encoding, fc.boolean(), fc.constantFrom("POST", "POST", "POST", "GET", "PUT"))),
        async ([t, raw, type, enc, valid, verb]) => {
          const { headers, bytes } = request(t, raw, type, enc, valid);
          const method = t.kind === "yeep" || t.kind === "cosync" ? verb : "POST";
          const res = await fetch(`${svc.url}${t.path}`, { method, headers, body: method === "GET" ? undefined : new Uint8Array(bytes) });
          const text = Buffer.from(await res.arrayBuffer()).toString("latin1");
          const wrong = violation(t, res.status, text, enc);
          if (wrong) throw new Error(`${t.kind} ${method} ${t.path} (${headers["content-type"]}, ${enc}): ${wrong}; answered ${res.status} ${text.slice(0, 300)}`);
        },
      ),
      { numRuns: RUNS, seed: SEED, endOnFailure: RUNS > 1000 },
    );
    expect(svc.logs.filter((l) => l.level === "error")).toStrictEqual([]);
    const healthz = await fetch(`${svc.url}/healthz`);
    expect(healthz.status).toBe(200);
    const signIn = await post(`${svc.url}/api/session.setCookie`, { user: COYOTE.username, password: COYOTE.password });
    expect(signIn.json.ok).toBe(true);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(512 * 1024 * 1024);
  });
});
