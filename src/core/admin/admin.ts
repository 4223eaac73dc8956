// The admin core as the composition root builds it: apps and accounts over one set of stores.
// The admin API (transport/services/admin-service.ts) calls nothing else.
import { AccountAdmin, type AccountAdminDeps } from "./accounts.js";
import { AppAdmin, type AppAdminDeps } from "./apps.js";

export interface AdminDeps extends AppAdminDeps, AccountAdminDeps {}

export class Admin {
  readonly apps: AppAdmin;
  readonly accounts: AccountAdmin;

  constructor(deps: AdminDeps) {
    this.apps = new AppAdmin(deps);
    this.accounts = new AccountAdmin(deps, this.apps);
  }
}
