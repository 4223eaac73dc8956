// Registration only: which implementation answers which generated service.
import type { DescService, Message } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { Health } from "../../../gen/grpc/health/v1/health_pb.js";
import { AdminService } from "../../../gen/signin/admin/v1/admin_pb.js";
import { adminService, requireAdminToken, type AdminDeps } from "./admin-service.js";
import { AppUserService } from "../../../gen/signin/appuser/v1/appuser_pb.js";
import type { Readiness } from "../readiness.js";
import { healthService, type WatchLimits } from "./health-service.js";
import { SessionService } from "../../../gen/signin/session/v1/session_pb.js";
import { TotpService } from "../../../gen/signin/session/v1/totp_pb.js";
import { PasskeyService } from "../../../gen/signin/session/v1/passkey_pb.js";
import { UserService } from "../../../gen/signin/session/v1/user_pb.js";
import { appUserService } from "./appuser-service.js";
import { StoreUnavailable } from "../../core/ephemeral.js";
import type { ServiceDeps } from "./deps.js";
import { reject } from "./errors.js";
import { checkStrings } from "./validate.js";
import { sessionService } from "./session-service.js";
import { totpService } from "./totp-service.js";
import { passkeyService } from "./passkey-service.js";
import { userService } from "./user-service.js";

/** The services and their implementations; the legacy REST surfaces call the same objects. */
export function implementations(deps: ServiceDeps) {
  return [
    { service: SessionService, impl: failClosed(checked(SessionService, sessionService(deps))) },
    { service: UserService, impl: failClosed(checked(UserService, userService(deps))) },
    { service: TotpService, impl: failClosed(checked(TotpService, totpService(deps))) },
    { service: PasskeyService, impl: failClosed(checked(PasskeyService, passkeyService(deps))) },
    { service: AppUserService, impl: failClosed(checked(AppUserService, appUserService(deps))) },
  ] as const;
}

/**
 * Every unary method's request has its strings checked (no NUL, no lone surrogate, a length cap)
 * before the method runs: here, because Connect, gRPC, gRPC-Web and both REST surfaces all call these objects.
 */
function checked<T extends object>(service: DescService, impl: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(impl)) {
    const method = service.methods.find((m) => m.localName === name);
    if (!method || method.methodKind !== "unary") {
      wrapped[name] = fn;
      continue;
    }
    wrapped[name] = (req: Message, ...rest: unknown[]) => {
      checkStrings(method.input, req);
      return (fn as (...a: unknown[]) => unknown).call(impl, req, ...rest);
    };
  }
  return wrapped as T;
}

/** Redis down: every method answers a retryable SERVICE_UNAVAILABLE (never "no limits"). */
function failClosed<T extends object>(impl: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(impl)) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await (fn as (...a: unknown[]) => Promise<unknown>).apply(impl, args);
      } catch (err) {
        if (err instanceof StoreUnavailable) reject("SERVICE_UNAVAILABLE", { retryAfterSeconds: 1 });
        throw err;
      }
    };
  }
  return wrapped as T;
}

export type Implementations = ReturnType<typeof implementations>;

/** The admin API, when ADMIN_TOKEN is set. */
export interface AdminRoute {
  token: string;
  deps: AdminDeps;
}

export function routes(impls: Implementations, ready: Readiness, admin: AdminRoute | null, watch: WatchLimits) {
  return (router: ConnectRouter) => {
    for (const { service, impl } of impls) router.service(service as never, impl as never);
    router.service(Health, healthService(ready, impls.map((i) => i.service.typeName), watch));
    if (admin) router.service(AdminService, checked(AdminService, adminService(admin.deps)), { interceptors: [requireAdminToken(admin.token, admin.deps)] });
  };
}
