// The Cosync-style API as typed RPCs (generated client, headers as call options), and the
// apps' private signing keys encrypted at rest with SIGNIN_MASTER_KEY.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppUserService } from "../gen/signin/appuser/v1/appuser_pb.js";
import { ErrorDetailSchema } from "../gen/signin/session/v1/error_pb.js";
import { openDatabase } from "../src/stores/postgres/database.js";
import { APP_TOKENS, COSYNC_APPS, COSYNC_USERS, md5, WILE } from "./support/cosync.js";
import { startTestService, uniqueName, type TestService, dropSharedSchema } from "./support/service.js";

describe("AppUserService over Connect and gRPC", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({}, COSYNC_USERS, COSYNC_APPS);
  });
  afterAll(() => svc?.close());

  it("login and getUser with the generated client, headers as call options", async () => {
    for (const transport of [
      createConnectTransport({ baseUrl: svc.url, httpVersion: "1.1" }),
      createGrpcTransport({ baseUrl: svc.url }),
    ]) {
      const client = createClient(AppUserService, transport);
      const res = await client.login({ handle: WILE.handle, password: md5(WILE.password) }, { headers: { "app-token": APP_TOKENS.acme } });
      expect(res.jwt).toBeTruthy();
      expect(res.loginToken).toBeUndefined();
      const user = await client.getUser({}, { headers: { "access-token": res.accessToken! } });
      expect(user.handle).toBe(WILE.handle);
      expect(user.metaData).toStrictEqual(WILE.metadata);
    }
  });

  it("errors carry the Connect code and the reason", async () => {
    const client = createClient(AppUserService, createGrpcTransport({ baseUrl: svc.url }));
    const err = await client
      .login({ handle: WILE.handle, password: md5("wrong") }, { headers: { "app-token": APP_TOKENS.acme } })
      .catch((e) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
    expect((err as ConnectError).findDetails(ErrorDetailSchema)[0]?.reason).toBe("INVALID_CREDENTIALS");
    const noApp = await client.login({ handle: WILE.handle, password: md5(WILE.password) }).catch((e) => ConnectError.from(e));
    expect((noApp as ConnectError).findDetails(ErrorDetailSchema)[0]?.reason).toBe("INVALID_APP_TOKEN");
  });
});

describe("signing keys at rest", () => {
  const env = () => ({ DATA_DIR: mkdtempSync(join(tmpdir(), "signin-keys-")), DATABASE_SCHEMA: uniqueName("keys") });

  it("with SIGNIN_MASTER_KEY, no private key is stored in clear; a restart with the key works, a wrong key stops start-up", async () => {
    const base = { ...env(), SIGNIN_MASTER_KEY: "m".repeat(40) };
    const first = await startTestService(base, COSYNC_USERS, COSYNC_APPS);
    await first.close();

    const db = await openDatabase({ url: process.env.DATABASE_URL, dataDir: base.DATA_DIR, schema: base.DATABASE_SCHEMA });
    const rows = await db.query<{ purpose: string; private_jwk: unknown }>("SELECT purpose, private_jwk FROM signing_keys");
    await db.close();
    expect(rows.map((r) => r.purpose).sort()).toStrictEqual(["app:acme", "app:default", "app:gone", "app:paused", "app:phoneco", "session"]);
    for (const r of rows) expect(r.private_jwk).toMatch(/^sealed\.v1\./); // see test/secrets.*.test.ts

    const again = await startTestService(base, COSYNC_USERS, COSYNC_APPS);
    await again.close();
    await expect(startTestService({ ...base, SIGNIN_MASTER_KEY: "x".repeat(40) }, COSYNC_USERS, COSYNC_APPS)).rejects.toThrow(
      /SIGNIN_MASTER_KEY: wrong key/,
    );
    await dropSharedSchema(base.DATABASE_SCHEMA);
  });
});
