// The generated service descriptors, and one typed client per service over a transport.
import type { createClient as CreateClient, Transport } from "@connectrpc/connect";
import { AdminService } from "../../gen/signin/admin/v1/admin_pb.js";
import { AppUserService } from "../../gen/signin/appuser/v1/appuser_pb.js";
import { SessionService } from "../../gen/signin/session/v1/session_pb.js";
import { TotpService } from "../../gen/signin/session/v1/totp_pb.js";
import { PasskeyService } from "../../gen/signin/session/v1/passkey_pb.js";
import { UserService } from "../../gen/signin/session/v1/user_pb.js";

export { AdminService, AppUserService, PasskeyService, SessionService, TotpService, UserService };
export { ErrorDetailSchema } from "../../gen/signin/session/v1/error_pb.js";

export function clientsFor(transport: Transport, createClient: typeof CreateClient) {
  return {
    session: createClient(SessionService, transport),
    user: createClient(UserService, transport),
    totp: createClient(TotpService, transport),
    passkey: createClient(PasskeyService, transport),
    appUser: createClient(AppUserService, transport),
    admin: createClient(AdminService, transport),
  };
}
