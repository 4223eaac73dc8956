// The admin core as the composition root builds it: apps and accounts over one set of stores,
// and the audit trail every admin call is recorded in (core/admin/admin-audit.ts).
// The admin API (transport/services/admin-service.ts) calls nothing else.
import type { Audit } from "../audit.js";
import { AccountAdmin, type AccountAdminDeps } from "./accounts.js";
import { AppAdmin, type AppAdminDeps } from "./apps.js";
import { SessionAdmin, type SessionAdminDeps } from "./sessions.js";

export interface AdminDeps extends AppAdminDeps, AccountAdminDeps, SessionAdminDeps {}

export class Admin {
  readonly apps: AppAdmin;
  readonly accounts: AccountAdmin;
  readonly sessions: SessionAdmin;
  readonly audit: Audit;

  constructor(deps: AdminDeps) {
    this.audit = deps.recentAudit;
    this.apps = new AppAdmin(deps);
    this.accounts = new AccountAdmin(deps, this.apps);
    this.sessions = new SessionAdmin(deps);
  }
}
