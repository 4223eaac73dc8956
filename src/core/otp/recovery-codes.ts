// Recovery codes: ten single-use codes that stand in for the second factor when its device is
// lost. Shown once; stored only as HMACs keyed by a secret derived from the server secret (kept
// out of the database), so a database dump gives nothing to type. A code is spent atomically in
// the database (one UPDATE ... WHERE used_at IS NULL), so of concurrent uses on any instance one wins.
// They back up a real factor: generated only while one is active, dropped when the last one goes.
import { createHmac, hkdfSync, randomBytes } from "node:crypto";
import type { Account } from "../accounts/account.js";
import type { App } from "../apps/app.js";
import type { Audit } from "../audit.js";
import type { RequestContext } from "../request-context.js";
import { passkeyFactorFor, secondFactorFor, type CodeOutcome } from "../sign-in/second-factor.js";

export const RECOVERY_CODE_COUNT = 10;
// Crockford's base32: no I, L, O or U; typed I/L read as 1 and O as 0. 10 characters = 50 bits.
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const LENGTH = 10;
const SHAPE = new RegExp(`^[${ALPHABET}]{${LENGTH}}$`);

export interface RecoveryCodeStore {
  /** The account's codes become these hashes, the old ones gone (one transaction). */
  replace(accountId: string, hashes: string[]): Promise<void>;
  /** Spends the unused code with this hash, atomically: the codes left after it, or null when none was spent. */
  use(accountId: string, hash: string): Promise<number | null>;
  /** Unused codes. */
  left(accountId: string): Promise<number>;
  deleteAll(accountId: string): Promise<void>;
}

/** The comparable form of a typed code (case, spaces and dashes ignored); null when it cannot be one. */
export function normalRecoveryCode(text: string): string | null {
  const code = text.toUpperCase().replace(/[\s-]/g, "").replace(/[IL]/g, "1").replace(/O/g, "0");
  return SHAPE.test(code) ? code : null;
}

export class RecoveryCodes {
  private readonly key: Buffer;

  constructor(
    private readonly store: RecoveryCodeStore,
    serverSecret: Buffer,
    private readonly audit: Audit,
    /** Whether an account has a passkey, another factor the codes back up; none = no passkeys. */
    private readonly passkeys: { has(accountId: string): Promise<boolean> } | null = null,
  ) {
    this.key = Buffer.from(hkdfSync("sha256", serverSecret, "signin", "recovery-code-hmac", 32));
  }

  /** A new set, replacing the old one; the caller has proved a step-up. Shown as `xxxxx-xxxxx`. */
  async generate(ctx: RequestContext, account: Account): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
    await this.store.replace(account.id, codes.map((c) => this.hash(account.id, c)));
    this.audit.record(ctx, { event: "recovery_codes.generated", appId: account.appId, accountId: account.id });
    return codes.map((c) => `${c.slice(0, 5)}-${c.slice(5)}`);
  }

  /** Unused codes: as read with the account when it was (no query of their own), else from their store. */
  async left(account: Pick<Account, "id" | "recoveryCodesLeft">): Promise<number> {
    return account.recoveryCodesLeft ?? this.store.left(account.id);
  }

  /** "ok" once per code; the use is audited with how many are left. */
  async use(ctx: RequestContext, appId: string, accountId: string, typed: string): Promise<CodeOutcome> {
    const code = normalRecoveryCode(typed);
    const left = code ? await this.store.use(accountId, this.hash(accountId, code)) : null;
    if (left === null) return "invalid";
    this.audit.record(ctx, { event: "recovery_code.used", appId, accountId, left });
    return "ok";
  }

  /** Whether the account has a real second factor (TOTP, SMS or a passkey) for codes to stand in for. */
  async backUp(app: App, account: Account): Promise<boolean> {
    return secondFactorFor(app, account) !== null || (await passkeyFactorFor(app, account, false, this.passkeys)) !== null;
  }

  /** After a factor was removed (`account` as it is now): without a real factor left, its codes go too. */
  async afterFactorRemoved(app: App | null, account: Account | null): Promise<void> {
    if (account && (!app || !(await this.backUp(app, account)))) await this.store.deleteAll(account.id);
  }

  /** Keyed by the account too, so one code's hash says nothing about another account's. */
  private hash(accountId: string, code: string): string {
    return createHmac("sha256", this.key).update(`${accountId}:${code}`).digest("hex");
  }
}

function newCode(): string {
  // 32 divides 256: each byte's low 5 bits are uniform.
  return Array.from(randomBytes(LENGTH), (b) => ALPHABET[b & 31]).join("");
}
