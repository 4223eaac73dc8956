// Registration only: which implementation answers which generated service.
import type { ConnectRouter } from "@connectrpc/connect";
import { AppUserService } from "../../../gen/signin/appuser/v1/appuser_pb.js";
import { SessionService } from "../../../gen/signin/session/v1/session_pb.js";
import { TotpService } from "../../../gen/signin/session/v1/totp_pb.js";
import { UserService } from "../../../gen/signin/session/v1/user_pb.js";
import { appUserService } from "./appuser-service.js";
import type { ServiceDeps } from "./deps.js";
import { sessionService } from "./session-service.js";
import { totpService } from "./totp-service.js";
import { userService } from "./user-service.js";

/** The services and their implementations; the legacy REST surface calls the same objects. */
export function implementations(deps: ServiceDeps) {
  return [
    { service: SessionService, impl: sessionService(deps) },
    { service: UserService, impl: userService(deps) },
    { service: TotpService, impl: totpService(deps) },
    { service: AppUserService, impl: appUserService(deps) },
  ] as const;
}

export type Implementations = ReturnType<typeof implementations>;

export function routes(impls: Implementations) {
  return (router: ConnectRouter) => {
    for (const { service, impl } of impls) router.service(service as never, impl as never);
  };
}
