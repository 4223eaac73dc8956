// Abuse limits on every sign-in path, in two verbs (as authelia's regulation): `check` before
// any argon2 work, `record` after the outcome. Account keys are the app and the login as typed
// (normalised), not the account id, so a blocked answer looks the same for accounts that do not
// exist. The per-account limit across IPs is a progressive delay capped so that at most
// `accountFailures.points` attempts fit in its window (NIST 800-63B 5.2.2) without a hard lock.
import type { Limiter, LimiterFactory, Rate } from "./limiter.js";

export interface LimitsConfig {
  ipRequests: Rate;
  ipFailures: Rate;
  /** Consecutive failures per account and IP before a block. */
  accountIpFailures: number;
  /** First block and its cap, seconds; each further block doubles. */
  accountIpBlock: { firstSeconds: number; maxSeconds: number };
  accountFailures: Rate;
  /** Failures per account before each further attempt must wait. */
  accountDelayAfter: number;
  secondFactorFailures: Rate;
  smsPerAccount: Rate;
  smsPerPhone: Rate;
  appRequests: Rate;
}

export interface Subject {
  ip: string;
  appId: string;
  /** The normalised login (username, email or handle). */
  login: string;
}

export type Limited = { limited: true; limiter: string; retryAfterSeconds: number };
/**
 * Allowed; `suspect` when the IP or the account has recent failures (hashing gets low priority),
 * `clean` when the account had no failure state to reset after a success.
 */
export type Allowed = { limited: false; suspect?: boolean; clean?: boolean };
export type Decision = Allowed | Limited;

const ALLOWED: Decision = { limited: false };
const limited = (limiter: string, ms: number): Limited => ({ limiter, limited: true, retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)) });

export class SignInLimits {
  private readonly app: Limiter;
  private readonly ipRequests: Limiter;
  private readonly ipFailures: Limiter;
  private readonly accountIpFailures: Limiter;
  private readonly accountIpBlocks: Limiter;
  private readonly accountFailures: Limiter;
  private readonly accountDelay: Limiter;
  private readonly secondFactor: Limiter;
  private readonly smsAccount: Limiter;
  private readonly smsPhone: Limiter;
  private readonly maxDelaySeconds: number;

  constructor(
    make: LimiterFactory,
    private readonly config: LimitsConfig,
  ) {
    const rate = (name: string, r: Rate) => make({ name, points: r.points, durationSeconds: r.seconds });
    this.app = rate("app", config.appRequests);
    this.ipRequests = rate("ip", config.ipRequests);
    this.ipFailures = rate("ip-fail", config.ipFailures);
    this.accountIpFailures = make({ name: "acct-ip-fail", points: config.accountIpFailures, durationSeconds: config.accountIpBlock.maxSeconds * 4 });
    this.accountIpBlocks = make({ name: "acct-ip-blocks", points: 1_000_000, durationSeconds: 24 * 3600 });
    this.accountFailures = rate("acct-fail", config.accountFailures);
    this.accountDelay = make({ name: "acct-delay", points: 1_000_000, durationSeconds: 1 });
    this.secondFactor = rate("2fa-fail", config.secondFactorFailures);
    this.smsAccount = rate("sms-acct", config.smsPerAccount);
    this.smsPhone = rate("sms-phone", config.smsPerPhone);
    // Evenly spread, the cap lets exactly `points` attempts through per window.
    this.maxDelaySeconds = Math.max(1, Math.floor(config.accountFailures.seconds / config.accountFailures.points));
  }

  /** Before any password work: counts the request against app and IP, and checks the blocks. */
  async check(s: Subject): Promise<Decision> {
    const acct = accountKey(s);
    const [app, ip, ipFail, block, acctFail, delay] = await Promise.all([
      this.app.consume(s.appId),
      this.ipRequests.consume(s.ip),
      this.ipFailures.get(s.ip),
      this.accountIpFailures.get(`${acct}|${s.ip}`),
      this.accountFailures.get(acct),
      this.accountDelay.get(acct),
    ]);
    if (app.limited) return limited("app", app.msBeforeNext);
    if (ip.limited) return limited("ip", ip.msBeforeNext);
    if (ipFail && ipFail.consumed >= this.ipFailures.points) return limited("ip-failures", ipFail.msBeforeNext);
    if (block && block.consumed > this.accountIpFailures.points) return limited("account-ip", block.msBeforeNext);
    if (delay && delay.consumed > 0 && delay.msBeforeNext > 0) return limited("account-delay", delay.msBeforeNext);
    if (acctFail && acctFail.consumed >= this.accountFailures.points) return limited("account", acctFail.msBeforeNext);
    const suspect = (ipFail?.consumed ?? 0) > 0 || (acctFail?.consumed ?? 0) > 0;
    return { limited: false, suspect, clean: !block && !acctFail && !delay };
  }

  /**
   * After the password was checked (unknown accounts count as wrong passwords). `checked` is
   * what `check` said: a success after a clean check has nothing to reset (saves 4 Redis writes;
   * a failure recorded in between is left to expire, as any failure that preceded a success elsewhere).
   */
  async recordPassword(s: Subject, success: boolean, checked?: Allowed): Promise<void> {
    const acct = accountKey(s);
    const pair = `${acct}|${s.ip}`;
    if (success) {
      if (checked?.clean) return;
      await Promise.all([this.accountIpFailures.delete(pair), this.accountIpBlocks.delete(pair), this.accountFailures.delete(acct), this.accountDelay.delete(acct)]);
      return;
    }
    const [, consecutive, total] = await Promise.all([
      this.ipFailures.consume(s.ip),
      this.accountIpFailures.consume(pair),
      this.accountFailures.consume(acct),
    ]);
    if (consecutive.consumed >= this.config.accountIpFailures) {
      // Escalate: 1st block first, then doubling, capped; the counter keeps the pair blocked.
      const blocks = (await this.accountIpBlocks.consume(pair)).consumed;
      const { firstSeconds, maxSeconds } = this.config.accountIpBlock;
      await this.accountIpFailures.block(pair, Math.min(firstSeconds * 2 ** (blocks - 1), maxSeconds));
    }
    const over = total.consumed - this.config.accountDelayAfter;
    if (over > 0) await this.accountDelay.block(acct, Math.min(2 ** (over - 1), this.maxDelaySeconds));
  }

  /** Before checking a second-factor code for an account. */
  async checkSecondFactor(accountId: string): Promise<Decision> {
    const state = await this.secondFactor.get(accountId);
    return state && state.consumed >= this.secondFactor.points ? limited("second-factor", state.msBeforeNext) : ALLOWED;
  }

  async recordSecondFactor(accountId: string, success: boolean): Promise<void> {
    if (success) await this.secondFactor.delete(accountId);
    else await this.secondFactor.consume(accountId);
  }

  /** Counts an SMS about to be sent to an account's phone. */
  async sms(accountId: string, phone: string): Promise<Decision> {
    const [acct, phoneState] = await Promise.all([this.smsAccount.consume(accountId), this.smsPhone.consume(phone)]);
    if (acct.limited) return limited("sms-account", acct.msBeforeNext);
    if (phoneState.limited) return limited("sms-phone", phoneState.msBeforeNext);
    return ALLOWED;
  }

  /** An SMS that could not be sent does not count (the user may retry at once). */
  async refundSms(accountId: string, phone: string): Promise<void> {
    await Promise.all([this.smsAccount.reward(accountId), this.smsPhone.reward(phone)]);
  }
}

const accountKey = (s: Subject) => `${s.appId}|${s.login}`;
