// Every legacy REST path written out, so that grepping a path finds its route: the envelope that
// answers it and the RPC it calls. test/legacy.route-table.test.ts holds it to the descriptors.
import type { DescMethod } from "@bufbuild/protobuf";
import { AppUserService } from "../../../gen/signin/appuser/v1/appuser_pb.js";
import { SessionService } from "../../../gen/signin/session/v1/session_pb.js";
import { TotpService } from "../../../gen/signin/session/v1/totp_pb.js";
import { PasskeyService } from "../../../gen/signin/session/v1/passkey_pb.js";
import { UserService } from "../../../gen/signin/session/v1/user_pb.js";

/** Which surface's envelope renders the answers (also the metrics and audit label). */
export type EnvelopeName = "yeep" | "cosync";

export interface LegacyRoute {
  path: string;
  envelope: EnvelopeName;
  method: DescMethod;
  /** Cosync only: the header the caller is known by, for the OpenAPI document. */
  header?: "app-token" | "access-token";
  /** Answers GET too (with no body): Cosync SDKs fetch the user that way. */
  alsoGet?: true;
}

// Order matters only to the OpenAPI documents, whose paths follow it.
export const LEGACY_ROUTES: readonly LegacyRoute[] = [
  { path: "/api/session.setCookie", envelope: "yeep", method: SessionService.method.setCookie },
  { path: "/api/session.refreshCookie", envelope: "yeep", method: SessionService.method.refreshCookie },
  { path: "/api/session.destroyCookie", envelope: "yeep", method: SessionService.method.destroyCookie },
  { path: "/api/session.issueToken", envelope: "yeep", method: SessionService.method.issueToken },
  { path: "/api/session.refreshToken", envelope: "yeep", method: SessionService.method.refreshToken },
  { path: "/api/session.destroyToken", envelope: "yeep", method: SessionService.method.destroyToken },
  { path: "/api/session.list", envelope: "yeep", method: SessionService.method.listSessions },
  { path: "/api/session.revoke", envelope: "yeep", method: SessionService.method.revokeSession },
  { path: "/api/session.revokeOthers", envelope: "yeep", method: SessionService.method.revokeOtherSessions },
  { path: "/api/user.info", envelope: "yeep", method: UserService.method.info },
  { path: "/api/totp.enroll", envelope: "yeep", method: TotpService.method.enroll },
  { path: "/api/totp.activate", envelope: "yeep", method: TotpService.method.activate },
  { path: "/api/totp.eject", envelope: "yeep", method: TotpService.method.eject },
  { path: "/api/recoveryCodes.generate", envelope: "yeep", method: TotpService.method.generateRecoveryCodes },
  { path: "/api/passkey.authenticationOptions", envelope: "yeep", method: PasskeyService.method.authenticationOptions },
  { path: "/api/passkey.registrationOptions", envelope: "yeep", method: PasskeyService.method.registrationOptions },
  { path: "/api/passkey.register", envelope: "yeep", method: PasskeyService.method.register },
  { path: "/api/passkey.list", envelope: "yeep", method: PasskeyService.method.list },
  { path: "/api/passkey.rename", envelope: "yeep", method: PasskeyService.method.rename },
  { path: "/api/passkey.delete", envelope: "yeep", method: PasskeyService.method.delete },
  // A Cosync user is not signed in yet at login and loginComplete: the app's token names the app.
  { path: "/api/appuser/login", envelope: "cosync", method: AppUserService.method.login, header: "app-token" },
  { path: "/api/appuser/loginComplete", envelope: "cosync", method: AppUserService.method.loginComplete, header: "app-token" },
  { path: "/api/appuser/getUser", envelope: "cosync", method: AppUserService.method.getUser, header: "access-token", alsoGet: true },
  { path: "/api/appuser/setPhone", envelope: "cosync", method: AppUserService.method.setPhone, header: "access-token" },
  { path: "/api/appuser/verifyPhone", envelope: "cosync", method: AppUserService.method.verifyPhone, header: "access-token" },
  { path: "/api/appuser/setTwoFactorPhoneVerification", envelope: "cosync", method: AppUserService.method.setTwoFactorPhoneVerification, header: "access-token" },
  { path: "/api/appuser/setTwoFactorGoogleVerification", envelope: "cosync", method: AppUserService.method.setTwoFactorGoogleVerification, header: "access-token" },
];
