import type { Clock } from '../cache/index.js'
import { ThrottledError } from '../features/throttle.js'

export interface LoginLimitSettings {
  /** LOGIN_FAILURES_PER_CLIENT: failed sign-ins one client may make within `windowMs`. */
  readonly perClient: number
  /** LOGIN_FAILURE_WINDOW: that window, and how long credentials that failed are refused at once. */
  readonly windowMs: number
  /** LOGIN_FAILURES_PER_SECOND: failed sign-ins a second from all clients together. */
  readonly perSecond: number
  /** LOGIN_CHECK_CONCURRENCY: password checks (scrypt, ~50 ms of a core each) running at once. */
  readonly concurrency: number
  /** How long a sign-in refused without a check waits for its answer; default REFUSAL_DELAY_MS. */
  readonly refusalDelayMs?: number
}

/**
 * A refusal that costs nothing would let a client that ignores it send thousands a second: each
 * waits this long (holding only its connection), as a checked failure waits for scrypt.
 */
export const REFUSAL_DELAY_MS = 1_000

/** What the limits did, for `/metrics` and the tests. */
export interface LoginLimitCounts {
  /** Password checks run (scrypt). */
  checks: number
  /** Credentials refused at once because they failed within the window. */
  refusedKnownFailures: number
  /** Sign-ins refused with a 429: a client's or everybody's failures used up. */
  refusedThrottled: number
  /** The most checks that ran at once. */
  peakConcurrent: number
}

/** Clients whose failures are kept; past it the least recent is forgotten (and starts afresh). */
const MAX_CLIENTS = 10_000
/** Failed credentials remembered at most (their keyed digests, never the credentials). */
const MAX_FAILED_LOGINS = 10_000
const SECOND_MS = 1_000

/**
 * Failed Basic sign-ins cost the caller, not the service. A password check is scrypt, ~50 ms of
 * a core, and anyone may send credentials: without bounds, 50 connections of wrong passwords
 * kept both cores busy (45 checks a second). Here:
 * - credentials that failed within the window are refused again at once, by their keyed digest
 *   (the caller's `LoginDigest`, an HMAC under a key of this process), without a new check;
 * - each client (`clientOf`) may fail `perClient` checks a window, and all together `perSecond`
 *   checks a second; a running check counts as a failure until it ends, so a burst of
 *   concurrent logins waits for the outcome of those running rather than all starting at once
 *   (a burst of wrong ones is bounded before any of them has failed; right ones go on as the
 *   checks before them pass); past a bound, a 429 with `Retry-After` (a ThrottledError),
 *   before any work;
 * - at most `concurrency` checks run at once; the rest wait their turn;
 * - a refusal without a check is answered after `refusalDelayMs`, so that a client ignoring it
 *   cannot spin on cheap refusals.
 * A sign-in that passed is remembered by the viewers' accounts and never checked here again.
 * Every bound applies alike to an unknown name and a wrong password (both cost one check), so
 * they still cannot be told apart by timing.
 */
export class LoginLimits {
  readonly counts: LoginLimitCounts = { checks: 0, refusedKnownFailures: 0, refusedThrottled: 0, peakConcurrent: 0 }
  /** Per client, the times of its failed checks within the window, and its checks running. */
  private readonly byClient = new Map<string, { failures: number[]; running: number }>()
  /** The times of failed checks of all clients within the last second. */
  private readonly recentFailures: number[] = []
  /** Checks admitted and not yet ended, of all clients. */
  private admitted = 0
  /** Admissions waiting for a check to end (its outcome may use up a bound, or leave room). */
  private readonly blocked: Array<() => void> = []
  /** Digests of credentials that failed, with when. */
  private readonly failed = new Map<string, number>()
  private running = 0
  private readonly waiting: Array<() => void> = []

  constructor(
    private readonly settings: LoginLimitSettings,
    private readonly clock: Clock,
  ) {}

  /**
   * Runs `check` (a password check: resolves whether the credentials sign someone in) for
   * `client`, within the bounds: false at once for credentials that failed within the window,
   * a ThrottledError past a bound.
   */
  async check(client: string, digest: string, check: () => Promise<boolean>): Promise<boolean> {
    const now = this.clock.now()
    if (this.failedRecently(digest, now)) {
      this.counts.refusedKnownFailures++
      await this.refusalDelay()
      return false
    }
    let mine: { failures: number[]; running: number }
    try {
      mine = await this.admit(client)
    } catch (error) {
      await this.refusalDelay()
      throw error
    }
    let passed = false
    // A check that throws (the database is out of reach) says nothing of the credentials.
    let answered = false
    try {
      await this.turn()
      this.counts.checks++
      this.counts.peakConcurrent = Math.max(this.counts.peakConcurrent, this.running)
      passed = await check()
      answered = true
    } finally {
      this.running--
      this.waiting.shift()?.()
      mine.running--
      this.admitted--
      if (answered && !passed) {
        const at = this.clock.now()
        mine.failures.push(at)
        this.recentFailures.push(at)
        this.remember(digest)
      }
      for (const wake of this.blocked.splice(0)) wake()
    }
    return passed
  }

  private refusalDelay(): Promise<void> {
    const ms = this.settings.refusalDelayMs ?? REFUSAL_DELAY_MS
    return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms))
  }

  /** Forgets every failed credential (an account was made: credentials refused before may sign someone in now). */
  forgetFailures(): void {
    this.failed.clear()
  }

  private failedRecently(digest: string, now: number): boolean {
    const at = this.failed.get(digest)
    if (at === undefined) return false
    if (now - at < this.settings.windowMs) return true
    this.failed.delete(digest)
    return false
  }

  private remember(digest: string): void {
    this.failed.delete(digest)
    this.failed.set(digest, this.clock.now())
    if (this.failed.size > MAX_FAILED_LOGINS) this.failed.delete(this.failed.keys().next().value!)
  }

  /**
   * Admits a check for `client`, or throws past a bound. A check counts against the bounds
   * while it runs (a burst of concurrent wrong logins is bounded before any has failed): an
   * admission that would pass a bound only if the running checks fail waits for them to end.
   */
  private async admit(client: string): Promise<{ failures: number[]; running: number }> {
    const { perClient, perSecond, windowMs } = this.settings
    for (;;) {
      const now = this.clock.now()
      const mine = this.byClient.get(client) ?? { failures: [], running: 0 }
      drop(mine.failures, now - windowMs)
      drop(this.recentFailures, now - SECOND_MS)
      if (mine.failures.length >= perClient) {
        this.counts.refusedThrottled++
        throw new ThrottledError(
          `Too many failed sign-ins from ${client}: ${mine.failures.length} within ${windowMs / 1000} s, at most ${perClient} (LOGIN_FAILURES_PER_CLIENT)`,
          mine.failures[0]! + windowMs - now,
        )
      }
      if (this.recentFailures.length >= perSecond) {
        this.counts.refusedThrottled++
        throw new ThrottledError(
          `Too many failed sign-ins on this service: at most ${perSecond} a second from all clients (LOGIN_FAILURES_PER_SECOND)`,
          this.recentFailures[0]! + SECOND_MS - now,
        )
      }
      if (mine.failures.length + mine.running < perClient && this.recentFailures.length + this.admitted < perSecond) {
        mine.running++
        this.admitted++
        // Most recently active last: the first key is the one forgotten.
        this.byClient.delete(client)
        this.byClient.set(client, mine)
        if (this.byClient.size > MAX_CLIENTS) this.byClient.delete(this.byClient.keys().next().value!)
        return mine
      }
      await new Promise<void>((resolve) => this.blocked.push(resolve))
    }
  }

  private turn(): Promise<void> {
    if (this.running < this.settings.concurrency) {
      this.running++
      return Promise.resolve()
    }
    return new Promise((resolve) =>
      this.waiting.push(() => {
        this.running++
        resolve()
      }),
    )
  }
}

/** Drops the times at or before `before` from the front of an ascending list. */
function drop(times: number[], before: number): void {
  let n = 0
  while (n < times.length && times[n]! <= before) n++
  if (n > 0) times.splice(0, n)
}
