// Every admin call is audited once, as one JSON line (ASVS 16.3): who (the admin credential by its
// fingerprint, and the request context: IP, user agent, request id), what (the RPC), on what (app,
// account, login) and the outcome. Never a password, hash, app token, TOTP secret or the admin token.
import { createHash } from "node:crypto";
import type { AuditEvent } from "../audit.js";

/** What a call names; only identifiers, each cut to a bounded length. */
export interface AdminTarget {
  app?: string;
  account?: string;
  login?: string;
  /** RotateSigningKey: the service's key or an app's. */
  key?: "service" | "app";
}

export interface AdminAuditEvent extends AuditEvent {
  event: "admin.call" | "admin.denied";
  /** "admin-token:<fingerprint>", or "unknown" when the token was missing or wrong. */
  actor: string;
  /** The RPC, e.g. "SetPassword". */
  action: string;
  target: AdminTarget;
  outcome: "ok" | "failed";
  /** The settings an update names ("status=suspended", "email"), or an import's counts; never values that are secrets. */
  detail?: Record<string, unknown>;
}

const MAX_TARGET_LENGTH = 128;

/** Tells admin credentials apart in the trail (e.g. across a token change) without revealing one. */
export function adminActor(adminToken: string): string {
  return `admin-token:${createHash("sha256").update(`signin admin actor\0${adminToken}`).digest("hex").slice(0, 12)}`;
}

/** The target with empty fields dropped and long ones cut: a request's identifiers are not trusted to be short. */
export function adminTarget(target: Record<string, string | undefined>): AdminTarget {
  return Object.fromEntries(
    Object.entries(target)
      .filter((e): e is [string, string] => typeof e[1] === "string" && e[1] !== "")
      .map(([k, v]) => [k, v.slice(0, MAX_TARGET_LENGTH)]),
  ) as AdminTarget;
}
