// Every kind of caller: the package's ready-made clients (Node Connect and gRPC, and the
// connect-web one run on Node's fetch), and an independent gRPC implementation (@grpc/grpc-js
// loading proto/ with @grpc/proto-loader) for sign-in and login completion, errors and metadata.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { generate } from "otplib";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodeClients } from "../src/clients/node.js";
import { createWebClients } from "../src/clients/web.js";
import { APP_TOKENS, COSYNC_APPS, COSYNC_USERS, md5, RR, WILE } from "./support/cosync.js";
import { COYOTE, startTestService, TOTP_SECRET, type TestService } from "./support/service.js";

describe("clients", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({}, [...COSYNC_USERS, COYOTE], COSYNC_APPS);
  });
  afterAll(() => svc?.close());

  it("the package's Node clients (Connect and gRPC) and web clients sign in and read the user", async () => {
    for (const clients of [
      createNodeClients({ baseUrl: svc.url }),
      createNodeClients({ baseUrl: svc.url, protocol: "grpc" }),
      createWebClients(svc.url),
    ]) {
      const { token } = await clients.session.issueToken({ user: "coyote", password: COYOTE.password });
      const { user } = await clients.user.info({}, { headers: { authorization: `Bearer ${token}` } });
      expect(user?.id).toBe(COYOTE.id);
    }
  });

  describe("@grpc/grpc-js with proto/ loaded by @grpc/proto-loader", () => {
    type Callback = (err: grpc.ServiceError | null, res: any) => void;
    let session: grpc.Client & Record<string, (req: object, md: grpc.Metadata, cb: Callback) => void>;
    let appUser: typeof session;
    beforeAll(() => {
      const definition = protoLoader.loadSync(["signin/session/v1/session.proto", "signin/appuser/v1/appuser.proto", "signin/session/v1/error.proto"], {
        includeDirs: [join(import.meta.dirname, "..", "proto")],
        keepCase: false,
        longs: String,
        defaults: false,
      });
      const pkg = grpc.loadPackageDefinition(definition) as any;
      const address = new URL(svc.url).host;
      session = new pkg.signin.session.v1.SessionService(address, grpc.credentials.createInsecure());
      appUser = new pkg.signin.appuser.v1.AppUserService(address, grpc.credentials.createInsecure());
    });
    afterAll(() => {
      session?.close();
      appUser?.close();
    });

    const call = (client: typeof session, method: string, req: object, md = new grpc.Metadata()) =>
      new Promise<{ err: grpc.ServiceError | null; res: any; trailers?: grpc.Metadata }>((resolve) => {
        client[method]!(req, md, (err, res) => resolve({ err, res }));
      });

    it("signs in; a wrong password is UNAUTHENTICATED with the reason in the status details", async () => {
      const ok = await call(session, "issueToken", { user: "coyote", password: COYOTE.password });
      expect(ok.err).toBeNull();
      expect(ok.res.token.split(".")).toHaveLength(3);

      const bad = await call(session, "issueToken", { user: "coyote", password: "nope" });
      expect(bad.err?.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(bad.err?.details).toBe("Invalid username or password");
      const details = bad.err?.metadata.get("grpc-status-details-bin")[0] as Buffer;
      expect(details.toString("latin1")).toContain("INVALID_CREDENTIALS");
    });

    it("Cosync login and loginComplete with the app token as metadata", async () => {
      const md = new grpc.Metadata();
      md.set("app-token", APP_TOKENS.acme);
      const plain = await call(appUser, "login", { handle: WILE.handle, password: md5(WILE.password) }, md);
      expect(plain.err).toBeNull();
      expect(plain.res.jwt).toBeTruthy();

      const first = await call(appUser, "login", { handle: RR.handle, password: md5(RR.password) }, md);
      expect(first.res.loginToken).toBeTruthy();
      const wrong = await call(appUser, "loginComplete", { loginToken: first.res.loginToken, code: "000000" }, md);
      expect(wrong.err?.code).toBe(grpc.status.UNAUTHENTICATED);
      const code = await generate({ secret: TOTP_SECRET, epoch: Math.floor(svc.clock.now() / 1000) });
      const done = await call(appUser, "loginComplete", { loginToken: first.res.loginToken, code }, md);
      expect(done.err).toBeNull();
      expect(done.res.accessToken).toBeTruthy();

      const noApp = await call(appUser, "login", { handle: WILE.handle, password: md5(WILE.password) });
      expect(noApp.err?.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(noApp.err?.details).toBe("Invalid app token");
    });
  });
});
