// Ready-made typed clients for Node services: every service of the sign-in API over one
// transport (Connect or gRPC protocol, HTTP/1.1 or HTTP/2).
import { createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { clientsFor } from "./services.js";

export * from "./services.js";

export interface NodeClientOptions {
  baseUrl: string;
  /** "connect" (default) or "grpc" (always HTTP/2). */
  protocol?: "connect" | "grpc";
  /** For the Connect protocol: "1.1" (default) or "2". */
  httpVersion?: "1.1" | "2";
  interceptors?: Interceptor[];
}

export function createNodeTransport(opts: NodeClientOptions): Transport {
  return opts.protocol === "grpc"
    ? createGrpcTransport({ baseUrl: opts.baseUrl, interceptors: opts.interceptors })
    : createConnectTransport({ baseUrl: opts.baseUrl, httpVersion: opts.httpVersion ?? "1.1", interceptors: opts.interceptors });
}

/** `session`, `user`, `totp`, `appUser` (and `admin`, which needs ADMIN_TOKEN as a bearer token). */
export function createNodeClients(opts: NodeClientOptions) {
  return clientsFor(createNodeTransport(opts), createClient);
}
