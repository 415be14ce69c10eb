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
 * - each client (`clientOf`) may start `perClient` checks a window, and all together `perSecond`
 *   checks a second, counted from the start of the check and given back when it passes, so a
 *   burst of concurrent wrong logins is bounded before any of them has failed; past a bound, a
 *   429 with `Retry-After` (a ThrottledError), before any work;
 * - at most `concurrency` checks run at once; the rest wait their turn;
 * - a refusal without a check is answered after `refusalDelayMs`, so that a client ignoring it
 *   cannot spin on cheap refusals.
 * A sign-in that passed is remembered by the viewers' accounts and never checked here again.
 * Every bound applies alike to an unknown name and a wrong password (both cost one check), so
 * they still cannot be told apart by timing.
 */
export class LoginLimits {
  readonly counts: LoginLimitCounts = { checks: 0, refusedKnownFailures: 0, refusedThrottled: 0, peakConcurrent: 0 }
  /** Per client, the start times of its checks in the window that did not pass. */
  private readonly byClient = new Map<string, number[]>()
  /** The same for all clients, over the last second. */
  private readonly recent: number[] = []
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
    let started: number
    try {
      started = this.admit(client, now)
    } catch (error) {
      await this.refusalDelay()
      throw error
    }
    let passed = false
    try {
      await this.turn()
      this.counts.checks++
      this.counts.peakConcurrent = Math.max(this.counts.peakConcurrent, this.running)
      passed = await check()
    } finally {
      this.running--
      this.waiting.shift()?.()
      if (passed) this.giveBack(client, started)
      else this.remember(digest)
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

  /** Counts a check starting now for `client`, or throws past a bound; returns its start time. */
  private admit(client: string, now: number): number {
    const { perClient, perSecond, windowMs } = this.settings
    const mine = this.byClient.get(client) ?? []
    drop(mine, now - windowMs)
    drop(this.recent, now - SECOND_MS)
    if (mine.length >= perClient) {
      this.counts.refusedThrottled++
      throw new ThrottledError(
        `Too many failed sign-ins from ${client}: ${mine.length} within ${windowMs / 1000} s, at most ${perClient} (LOGIN_FAILURES_PER_CLIENT)`,
        mine[0]! + windowMs - now,
      )
    }
    if (this.recent.length >= perSecond) {
      this.counts.refusedThrottled++
      throw new ThrottledError(
        `Too many failed sign-ins on this service: at most ${perSecond} a second from all clients (LOGIN_FAILURES_PER_SECOND)`,
        this.recent[0]! + SECOND_MS - now,
      )
    }
    mine.push(now)
    this.recent.push(now)
    // Most recently active last: the first key is the one forgotten.
    this.byClient.delete(client)
    this.byClient.set(client, mine)
    if (this.byClient.size > MAX_CLIENTS) this.byClient.delete(this.byClient.keys().next().value!)
    return now
  }

  private giveBack(client: string, started: number): void {
    remove(this.byClient.get(client), started)
    remove(this.recent, started)
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

function remove(times: number[] | undefined, time: number): void {
  const i = times?.indexOf(time) ?? -1
  if (i >= 0) times!.splice(i, 1)
}
