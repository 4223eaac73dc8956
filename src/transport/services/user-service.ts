// UserService: the caller's account, or another one with the `user.read` permission.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { UserService } from "../../../gen/signin/session/v1/user_pb.js";
import { readAccount } from "../../core/accounts/access.js";
import { authenticate } from "./authenticate.js";
import type { ServiceDeps } from "./deps.js";
import { unwrap } from "./errors.js";

export function userService(deps: ServiceDeps): ServiceImpl<typeof UserService> {
  return {
    async info(req, ctx) {
      const caller = await authenticate(deps, ctx);
      const a = unwrap(await readAccount(deps.accounts, caller, req.id));
      return {
        user: {
          id: a.id,
          username: a.username,
          fullName: a.fullName,
          emails: a.email ? [{ address: a.email, isVerified: a.emailVerified, isPrimary: true }] : [],
          permissions: a.permissions,
          createdAt: timestampFromDate(a.createdAt),
          mfaEnabled: a.totpSecret !== null,
          recoveryCodesLeft: await deps.recoveryCodes.left(a),
        },
      };
    },
  };
}
