// The Node adapter for the Connect, gRPC and gRPC-Web routes (connect-node's connectNodeAdapter, plus
// what it lacks for hostile clients): a client's garbage answers as the client's fault, refused bodies close.
import { Code, ConnectError, createConnectRouter, createContextKey, type ConnectRouter, type ContextValues, type Interceptor } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip, universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import type { Compression, UniversalHandler, UniversalServerResponse } from "@connectrpc/connect/protocol";
import type { Logger } from "../core/logger.js";
import type { Req, Res } from "./legacy/http.js";
import { clampTimeoutHeaders } from "./rpc-timeout.js";

export interface RpcAdapterOptions {
  routes: (router: ConnectRouter) => void;
  interceptors: Interceptor[];
  readMaxBytes: number;
  contextValues: (req: Req) => ContextValues;
  fallback: (req: Req, res: Res) => void;
  log: Logger;
}

/** Set by the interceptor that logged an implementation's own fault, so it is logged once. */
export const internalLogged = createContextKey(false);

const ACCEPTED = "gzip, br";

/**
 * Decompression a client broke (a truncated gzip body, say) is its fault: invalid_argument naming the
 * accepted encodings (connect-node answers internal for some zlib errors).
 */
function clientFaultDecompression(inner: Compression): Compression {
  return {
    name: inner.name,
    compress: (bytes) => inner.compress(bytes),
    decompress: (bytes, readMaxBytes) =>
      inner.decompress(bytes, readMaxBytes).catch((err: unknown) => {
        const e = ConnectError.from(err);
        if (e.code !== Code.Internal) throw e;
        throw new ConnectError(`request body is not valid ${inner.name} (accepted encodings: ${ACCEPTED})`, Code.InvalidArgument);
      }),
  };
}

export function rpcAdapter(opts: RpcAdapterOptions): (req: Req, res: Res) => void {
  const router = createConnectRouter({
    interceptors: opts.interceptors,
    readMaxBytes: opts.readMaxBytes,
    acceptCompression: [clientFaultDecompression(compressionGzip), clientFaultDecompression(compressionBrotli)],
  });
  opts.routes(router);
  const paths = new Map<string, UniversalHandler>(router.handlers.map((h) => [h.requestPath, h]));

  return (req, res) => {
    const handler = paths.get((req.url ?? "").split("?", 1)[0]!);
    if (!handler) return opts.fallback(req, res);
    clampTimeoutHeaders(req.headers);
    const contextValues = opts.contextValues(req);
    const uReq = universalRequestFromNodeRequest(req as never, res as never, undefined, contextValues);
    handler(uReq)
      .then((uRes) => universalResponseToNodeResponse(answered(uRes, req, contextValues, opts.log, handler.method.name), res as never))
      .catch((reason) => {
        if (ConnectError.from(reason).code === Code.Aborted) return;
        opts.log.error({ err: reason, requestId: req.headers["x-request-id"] }, "rpc handler failed");
      });
  };
}

// connect-es reports a message it cannot parse ("parse binary: premature EOF") or a compressed
// envelope without an encoding as internal; both are the client's malformed request.
function clientFault(code: number, message: string): string | null {
  if (code !== Code.Internal) return null;
  const parse = /^parse binary: (.{0,120})/.exec(message);
  if (parse) return `request message could not be decoded: ${parse[1]}`;
  if (message.startsWith("received compressed envelope")) return `compressed message without a grpc-encoding (accepted encodings: ${ACCEPTED})`;
  return null;
}

/** The response as connect built it, with client faults re-coded, refused bodies closing the connection, internals logged. */
function answered(uRes: UniversalServerResponse, req: Req, values: ContextValues, log: Logger, method: string): UniversalServerResponse {
  const out: UniversalServerResponse = { ...uRes };
  const header = (out.header ??= new Headers());
  const type = header.get("content-type") ?? "";
  const internal = (message: string) => {
    if (!values.get(internalLogged)) log.error({ requestId: req.headers["x-request-id"], method, message }, "rpc answered internal");
  };
  // Headers go out after the first chunk is pulled: by then the request body was read, or refused.
  const beforeHeaders = () => {
    // An answer sent before the whole body arrived (over the size limit, undecodable): on HTTP/1.1 the
    // rest of that body would be parsed as the next request, so the connection closes instead.
    if (req.httpVersionMajor === 1 && !req.complete) header.set("connection", "close");
  };
  const body = uRes.body ?? (async function* () {})();

  // The body as it comes, with the headers settled before its first chunk (or at its end when empty).
  const passThrough = (atEnd?: () => void) =>
    (async function* () {
      let first = true;
      for await (const c of body) {
        if (first) beforeHeaders(), (first = false);
        yield c;
      }
      if (first) beforeHeaders();
      atEnd?.();
    })();
  if (type.startsWith("application/json") && uRes.status !== 200) {
    // Connect unary error: one small JSON document.
    out.body = (async function* () {
      const chunks: Uint8Array[] = [];
      for await (const c of body) chunks.push(c);
      let bytes = Buffer.concat(chunks);
      if (!header.get("content-encoding")) {
        const err = parseJson(bytes.toString("utf8"));
        const fault = err.code === "internal" ? clientFault(Code.Internal, err.message ?? "") : null;
        if (fault) {
          bytes = Buffer.from(JSON.stringify({ code: "invalid_argument", message: fault }));
          out.status = 400;
          header.set("content-length", String(bytes.length));
        } else if (err.code === "internal") internal(err.message ?? "");
      }
      beforeHeaders();
      yield bytes;
    })();
  } else if (type.startsWith("application/grpc-web") || type.startsWith("application/connect+")) {
    // The status rides in the last envelope of the body (grpc-web trailers, connect end-stream).
    const grpcWeb = type.startsWith("application/grpc-web");
    out.body = (async function* () {
      let pending: Buffer = Buffer.alloc(0);
      let first = true;
      for await (const c of body) {
        pending = Buffer.concat([pending, c]);
        const { complete, rest } = splitEnvelopes(pending);
        pending = rest;
        if (complete.length === 0) continue;
        const rewritten = complete.map((e) => (grpcWeb ? grpcWebTrailer(e, internal) : connectEndStream(e, internal)));
        if (first) beforeHeaders(), (first = false);
        yield Buffer.concat(rewritten);
      }
      if (first) beforeHeaders();
      if (pending.length) yield pending;
    })();
  } else if (type.startsWith("application/grpc")) {
    // gRPC: the status is in the HTTP trailers (or the headers, trailers-only), filled in while the body runs.
    out.body = passThrough(() => grpcStatus(uRes.trailer?.has("grpc-status") ? uRes.trailer : header, internal));
  } else {
    out.body = passThrough();
  }
  return out;
}

function grpcStatus(h: Headers, internal: (message: string) => void): void {
  if (Number(h.get("grpc-status") ?? 0) !== Code.Internal) return;
  let message = h.get("grpc-message") ?? "";
  try {
    message = decodeURIComponent(message);
  } catch {
    // kept as sent
  }
  const fault = clientFault(Code.Internal, message);
  if (!fault) return internal(message);
  h.set("grpc-status", String(Code.InvalidArgument));
  h.set("grpc-message", encodeURIComponent(fault));
}

/** Whole envelopes (flags byte, 4-byte length, data) and the bytes of an incomplete one. */
function splitEnvelopes(buf: Buffer): { complete: Buffer[]; rest: Buffer } {
  const complete: Buffer[] = [];
  let at = 0;
  while (buf.length - at >= 5) {
    const end = at + 5 + buf.readUInt32BE(at + 1);
    if (end > buf.length) break;
    complete.push(buf.subarray(at, end));
    at = end;
  }
  return { complete, rest: buf.subarray(at) };
}

const envelope = (flags: number, data: Buffer) => {
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(data.length, 1);
  return Buffer.concat([head, data]);
};

// gRPC-Web trailers: flag 0x80, uncompressed, "name: value\r\n" lines.
function grpcWebTrailer(e: Buffer, internal: (message: string) => void): Buffer {
  if (e[0] !== 0x80) return e;
  const h = new Headers();
  for (const line of e.subarray(5).toString("latin1").split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0) h.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const before = h.get("grpc-status");
  grpcStatus(h, internal);
  if (h.get("grpc-status") === before) return e;
  let text = "";
  h.forEach((value, name) => (text += `${name}: ${value}\r\n`));
  return envelope(0x80, Buffer.from(text, "latin1"));
}

// Connect streaming end-stream: flag 0x02, uncompressed, JSON {"error": {code, message}, "metadata"}.
function connectEndStream(e: Buffer, internal: (message: string) => void): Buffer {
  if (e[0] !== 0x02) return e;
  const end = JSON.parse(e.subarray(5).toString("utf8")) as { error?: { code?: string; message?: string } };
  if (end.error?.code !== "internal") return e;
  const fault = clientFault(Code.Internal, end.error.message ?? "");
  if (!fault) return internal(end.error.message ?? ""), e;
  end.error = { code: "invalid_argument", message: fault };
  return envelope(0x02, Buffer.from(JSON.stringify(end)));
}

function parseJson(text: string): { code?: string; message?: string } {
  try {
    return JSON.parse(text) as { code?: string; message?: string };
  } catch {
    return {}; // not a Connect error document: passed on as it is
  }
}
