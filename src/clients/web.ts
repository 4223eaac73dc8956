// Ready-made typed clients for browsers (connect-web): the Connect protocol over fetch, with the
// session cookie sent along (credentials "include"; list the page's origin in CORS_ORIGINS).
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { clientsFor } from "./services.js";

export * from "./services.js";

export function createWebTransport(baseUrl: string): Transport {
  return createConnectTransport({ baseUrl, fetch: (input, init) => globalThis.fetch(input, { ...init, credentials: "include" }) });
}

export function createWebClients(baseUrl: string) {
  return clientsFor(createWebTransport(baseUrl), createClient);
}
