// Abuse limits on every sign-in path, in two verbs (as authelia's regulation): `check` before
// any argon2 work, `record` after the outcome. Account keys are the app and the login as typed
// (normalised), not the account id, so a blocked answer looks the same for accounts that do not
// exist. The per-account limit across IPs is a progressive delay capped so that at most
// `accountFailures.points` attempts fit in its window (NIST 800-63B 5.2.2) without a hard lock.
// A known device (OWASP device cookies) is not held by the account's limits that others filled:
// it has a small failure budget of its own instead, and once that is spent it is limited like anyone.
import { failureOf, type Failure } from "../failure.js";
import type { Logger } from "../logger.js";
import type { Limiter, LimiterFactory, LimiterState, Rate } from "./limiter.js";

type LimiterResult = LimiterState & { limited: boolean };

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
  /**
   * The device id of a genuine device credential issued for this app and login: the attempt is
   * counted in that device's budget instead of the account's (per-IP limits still apply).
   */
  device?: string;
}

export type Limited = { limited: true; limiter: string; retryAfterSeconds: number };
/**
 * Allowed, with the attempt reserved (see `check`). `suspect` when the IP or the account has
 * earlier failures (hashing gets low priority), `clean` when the account had no failure state.
 * `knownDevice`: reserved in the device's budget, not the account's.
 */
export type Allowed = { limited: false; suspect: boolean; clean: boolean; tries: number; knownDevice: boolean };
export type Decision = Allowed | Limited;
/** For counters without a password check behind them (second-factor codes, SMS sends). */
export type Verdict = Limited | { limited: false };

const limited = (limiter: string, ms: number): Limited => ({ limiter, limited: true, retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)) });

/**
 * A known device's own budget: this many failures per window, then its credential no longer
 * exempts it from the account's limits (until the window ends or it signs in).
 */
export const DEVICE_FAILURES: Rate = { points: 5, seconds: 3600 };

/** A reservation that could not be given back stays counted as a failure: logged, not fatal. */
export const unreleasedReservation = (log: Logger) => (err: unknown) => log.warn({ err }, "limit reservation not released");

/** The failure a refusal by a limit answers, with when to retry. */
export const tooMany = (d: Limited): Failure => failureOf("TOO_MANY_ATTEMPTS", { retryAfterSeconds: d.retryAfterSeconds });

export class SignInLimits {
  private readonly app: Limiter;
  private readonly ipRequests: Limiter;
  private readonly ipFailures: Limiter;
  private readonly accountIpFailures: Limiter;
  private readonly accountIpBlocks: Limiter;
  private readonly accountFailures: Limiter;
  private readonly accountDelay: Limiter;
  private readonly deviceFailures: Limiter;
  private readonly secondFactor: Limiter;
  private readonly secondFactorBlocks: Limiter;
  private readonly smsAccount: Limiter;
  private readonly smsPhone: Limiter;
  private readonly smsVerifyPhone: Limiter;
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
    // One attempt per delay: the first to take the slot goes, the others wait until it expires.
    this.accountDelay = make({ name: "acct-delay", points: 1, durationSeconds: 1 });
    this.deviceFailures = rate("device-fail", DEVICE_FAILURES);
    this.secondFactor = rate("2fa-fail", config.secondFactorFailures);
    this.secondFactorBlocks = make({ name: "2fa-blocks", points: 1_000_000, durationSeconds: 24 * 3600 });
    this.smsAccount = rate("sms-acct", config.smsPerAccount);
    this.smsPhone = rate("sms-phone", config.smsPerPhone);
    this.smsVerifyPhone = rate("sms-verify-phone", config.smsPerPhone);
    // Evenly spread, the cap lets exactly `points` attempts through per window.
    this.maxDelaySeconds = Math.max(1, Math.floor(config.accountFailures.seconds / config.accountFailures.points));
  }

  /**
   * Before any password work: counts the request against app and IP, and reserves the attempt as
   * a failure of the IP, the account and the pair (a known device: of the IP and the device), so
   * that attempts running at the same time (on any instance) count against each other: no more
   * are hashed than the limits allow, however many arrive at once. A refused attempt counts
   * nowhere (the limiters do not count what they refuse; a reservation granted by one is given
   * back); `recordPassword` settles the others. One round trip; two for a device whose budget is
   * spent (its attempt then goes through the account's limits as if it presented nothing).
   */
  async check(s: Subject): Promise<Decision> {
    const dev = s.device === undefined ? null : deviceKey(s);
    const [[app, ip, ipFail, device], early] = await Promise.all([
      Promise.all([
        this.app.consume(s.appId),
        this.ipRequests.consume(s.ip),
        this.ipFailures.consume(s.ip),
        dev === null ? null : this.deviceFailures.consume(dev),
      ]),
      dev === null ? this.accountState(s) : null,
    ]);
    const known = device !== null && !device.limited;
    const clientRefusal =
      (app.limited && limited("app", app.msBeforeNext)) ||
      (ip.limited && limited("ip", ip.msBeforeNext)) ||
      (ipFail.limited && limited("ip-failures", ipFail.msBeforeNext));
    // Without a device the account's counts were reserved in the first trip (given back below if refused).
    const account = early ?? (known || clientRefusal ? null : await this.accountState(s));
    const refusal = clientRefusal || (account && (await this.accountRefusal(s, account)));
    if (refusal) {
      const held: Array<[Limiter, string, LimiterResult | null]> = [
        [this.ipFailures, s.ip, ipFail],
        [this.deviceFailures, dev!, known ? device : null],
        [this.accountIpFailures, pairKey(s), account?.tries ?? null],
        [this.accountFailures, accountKey(s), account?.total ?? null],
      ];
      const givenBack = held.filter(([, , r]) => r && !r.limited);
      // The app is charged only for requests its clients' own limits let through: one client
      // refused by them cannot spend the whole app's budget (the point goes back in this same trip).
      if (!app.limited) givenBack.push([this.app, s.appId, null]);
      await Promise.all(givenBack.map(([limiter, key]) => limiter.reward(key)));
      return refusal;
    }
    if (known) return { limited: false, suspect: ipFail.consumed > 1 || device.consumed > 1, clean: device.consumed === 1, tries: device.consumed, knownDevice: true };
    const { delay, tries, total } = account!;
    const suspect = ipFail.consumed > 1 || total.consumed > 1;
    return { limited: false, suspect, clean: tries.consumed === 1 && total.consumed === 1 && !delay, tries: tries.consumed, knownDevice: false };
  }

  /**
   * A sign-in request that checks no password (a passkey's challenge or assertion): counted against
   * the app and the IP, as every sign-in request is; one refused by the IP's limit costs the app nothing.
   */
  async checkRequest(ip: string, appId: string): Promise<Verdict> {
    const [app, byIp] = await Promise.all([this.app.consume(appId), this.ipRequests.consume(ip)]);
    if (byIp.limited) {
      if (!app.limited) await this.app.reward(appId);
      return limited("ip", byIp.msBeforeNext);
    }
    return app.limited ? limited("app", app.msBeforeNext) : { limited: false };
  }

  /** The account's delay, and the attempt reserved in the pair's and the account's counts. */
  private async accountState(s: Subject): Promise<AccountState> {
    const [delay, tries, total] = await Promise.all([
      this.accountDelay.get(accountKey(s)),
      this.accountIpFailures.consume(pairKey(s)),
      this.accountFailures.consume(accountKey(s)),
    ]);
    return { delay, tries, total };
  }

  private async accountRefusal(s: Subject, { delay, tries, total }: AccountState): Promise<Limited | false> {
    return (
      // Over by one: full of attempts still in flight (the last failure blocks the pair), try again soon.
      (tries.limited && limited("account-ip", tries.consumed > this.accountIpFailures.points + 1 ? tries.msBeforeNext : 1000)) ||
      (delay && delay.msBeforeNext > 0 && limited("account-delay", delay.msBeforeNext)) ||
      (total.limited && limited("account", total.msBeforeNext)) ||
      (await this.takeDelaySlot(accountKey(s), total.consumed))
    );
  }

  /** Past `accountDelayAfter` failures, one attempt per delay (1 s, doubling, capped). */
  private async takeDelaySlot(acct: string, attempts: number): Promise<Limited | false> {
    const over = attempts - this.config.accountDelayAfter;
    if (over <= 0) return false;
    const slot = await this.accountDelay.consume(acct, 1, Math.min(2 ** (over - 1), this.maxDelaySeconds));
    return slot.limited && limited("account-delay", slot.msBeforeNext);
  }

  /** Takes back what `check` reserved, for an attempt whose password was not checked after all. */
  async release(s: Subject, checked?: Allowed): Promise<void> {
    await Promise.all(this.reservations(s, checked?.knownDevice ?? false).map(([limiter, key]) => limiter.reward(key)));
  }

  /** The counters an attempt is reserved in, as failures: the IP's, the pair's, the account's (or the IP's and the device's). */
  private reservations(s: Subject, knownDevice: boolean): Array<[Limiter, string]> {
    if (knownDevice) return [[this.ipFailures, s.ip], [this.deviceFailures, deviceKey(s)]];
    return [
      [this.ipFailures, s.ip],
      [this.accountIpFailures, pairKey(s)],
      [this.accountFailures, accountKey(s)],
    ];
  }

  /**
   * After the password was checked (unknown accounts count as wrong passwords). A failure was
   * counted by `check` already; a success resets the account's failure state and gives the IP
   * its point back. A known device's success resets only its own budget: others' failures keep
   * the account limited for them.
   */
  async recordPassword(s: Subject, success: boolean, checked: Allowed): Promise<void> {
    if (checked.knownDevice) {
      if (success) await Promise.all([this.ipFailures.reward(s.ip), this.deviceFailures.delete(deviceKey(s))]);
      return;
    }
    const acct = accountKey(s);
    const pair = pairKey(s);
    if (success) {
      const resets = [this.ipFailures.reward(s.ip), this.accountIpFailures.delete(pair), this.accountFailures.delete(acct)];
      if (!checked.clean) resets.push(this.accountIpBlocks.delete(pair), this.accountDelay.delete(acct));
      await Promise.all(resets);
      return;
    }
    if (checked.tries >= this.config.accountIpFailures) {
      // Escalate: 1st block first, then doubling, capped; the counter keeps the pair blocked.
      const blocks = (await this.accountIpBlocks.consume(pair)).consumed;
      const { firstSeconds, maxSeconds } = this.config.accountIpBlock;
      await this.accountIpFailures.block(pair, Math.min(firstSeconds * 2 ** (blocks - 1), maxSeconds));
    }
  }

  /** Before checking a second-factor code for an account: reserves the attempt as a failure. */
  async checkSecondFactor(accountId: string): Promise<SecondFactorVerdict> {
    const state = await this.secondFactor.consume(accountId);
    return state.limited ? limited("second-factor", state.msBeforeNext) : { limited: false, tries: state.consumed }; // a refusal is not counted
  }

  /**
   * A success resets the count and the escalation; a failure was counted by `checkSecondFactor`.
   * The failure that fills the window blocks the account's codes for the window, each further
   * block twice as long (up to SECOND_FACTOR_BLOCK_DOUBLINGS doublings), so guessing slows down
   * instead of going on at the same rate forever.
   */
  async recordSecondFactor(accountId: string, success: boolean, checked: { tries: number }): Promise<void> {
    if (success) {
      await Promise.all([this.secondFactor.delete(accountId), this.secondFactorBlocks.delete(accountId)]);
      return;
    }
    if (checked.tries < this.secondFactor.points) return;
    const blocks = (await this.secondFactorBlocks.consume(accountId)).consumed;
    const seconds = this.config.secondFactorFailures.seconds * 2 ** Math.min(blocks - 1, SECOND_FACTOR_BLOCK_DOUBLINGS);
    await this.secondFactor.block(accountId, seconds);
  }

  /** Takes back a second-factor attempt whose code was not checked after all. */
  async releaseSecondFactor(accountId: string): Promise<void> {
    await this.secondFactor.reward(accountId);
  }

  /**
   * Counts an SMS about to be sent for an account: in the account's budget and in the phone's.
   * A sign-in code goes to the account's verified phone, so its phone budget is the account's
   * own (account + number): no other account can spend it and lock the owner out. A code that
   * verifies a number (any number, typed by the user) is counted per number across all apps, in
   * a budget of its own: a flood at a victim's number stops there and never touches their sign-in.
   */
  async sms(accountId: string, phone: string, purpose: SmsPurpose): Promise<Verdict> {
    const [phoneLimiter, phoneKey] = this.smsPhoneBudget(accountId, phone, purpose);
    const [acct, phoneState] = await Promise.all([this.smsAccount.consume(accountId), phoneLimiter.consume(phoneKey)]);
    // A send refused by one budget takes nothing from the other.
    if (acct.limited) {
      if (!phoneState.limited) await phoneLimiter.reward(phoneKey);
      return limited("sms-account", acct.msBeforeNext);
    }
    if (phoneState.limited) {
      await this.smsAccount.reward(accountId);
      return limited("sms-phone", phoneState.msBeforeNext);
    }
    return { limited: false };
  }

  /** An SMS that could not be sent does not count (the user may retry at once). */
  async refundSms(accountId: string, phone: string, purpose: SmsPurpose): Promise<void> {
    const [phoneLimiter, phoneKey] = this.smsPhoneBudget(accountId, phone, purpose);
    await Promise.all([this.smsAccount.reward(accountId), phoneLimiter.reward(phoneKey)]);
  }

  private smsPhoneBudget(accountId: string, phone: string, purpose: SmsPurpose): [Limiter, string] {
    return purpose === "login" ? [this.smsPhone, `${accountId}|${phone}`] : [this.smsVerifyPhone, phone];
  }
}

/** Second-factor blocks double at most this many times (15 min -> 4 h with the default window). */
export const SECOND_FACTOR_BLOCK_DOUBLINGS = 4;

export type SecondFactorVerdict = Limited | { limited: false; tries: number };

/** What an SMS code is for: a sign-in, or verifying a number the user typed. */
export type SmsPurpose = "login" | "verify-phone";

interface AccountState {
  delay: LimiterState | null;
  tries: LimiterResult;
  total: LimiterResult;
}

const accountKey = (s: Subject) => `${s.appId}|${s.login}`;
const deviceKey = (s: Subject) => `${accountKey(s)}|${s.device}`;
const pairKey = (s: Subject) => `${accountKey(s)}|${s.ip}`;
