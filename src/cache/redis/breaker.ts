import type { Clock, TimerHandle } from '../clock.js'
import { messageOf } from '../entry.js'

export type BreakerState = 'closed' | 'open' | 'half-open'

/** What the breaker saw since start, for metrics: plain integers, bumped where they happen. */
export class BreakerCounts {
  /** Calls that went to Redis. */
  calls = 0
  /** Calls (and probes) that failed or missed their deadline, and connection errors. */
  failures = 0
  /** Calls answered with their fallback at once because the breaker was not closed. */
  rejected = 0
  /** Times the breaker opened. */
  opens = 0
}

export interface BreakerOptions {
  readonly clock: Clock
  /** Checks Redis while open (PING); resolves when it answers. */
  readonly probe: () => Promise<unknown>
  /** Consecutive failures (errors or timeouts) that open the breaker. Default 3. */
  readonly failureThreshold?: number
  /** How often an open breaker probes. Default 500 ms. */
  readonly probeIntervalMs?: number
  readonly onChange?: (state: BreakerState, lastError: string | null) => void
  /** Start open (not connected yet): the first successful probe closes it. Default false. */
  readonly startOpen?: boolean
  /** A call (or probe) that has not answered within this fails. Default 50 ms. */
  readonly deadlineMs?: number
}

/**
 * Stops calling a Redis that fails. Closed: calls go through and consecutive failures are
 * counted; at `failureThreshold` it opens. Open: callers get their fallback at once, and every
 * `probeIntervalMs` one probe runs (half-open); when it answers the breaker closes, when it
 * fails it stays open. `trip` opens it at once (the connection closed: no point counting).
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed'
  private failures = 0
  private error: string | null = null
  private probeTimer: TimerHandle | undefined
  private stopped = false
  private readonly clock: Clock
  private readonly probe: () => Promise<unknown>
  private readonly threshold: number
  private readonly deadlineMs: number
  private readonly probeIntervalMs: number
  private readonly onChange: ((state: BreakerState, lastError: string | null) => void) | undefined
  private readonly closeWaiters = new Set<() => void>()
  /** Live counts; read, never write. */
  readonly counts = new BreakerCounts()

  constructor(options: BreakerOptions) {
    this.clock = options.clock
    this.probe = options.probe
    this.threshold = options.failureThreshold ?? 3
    this.deadlineMs = options.deadlineMs ?? 50
    this.probeIntervalMs = options.probeIntervalMs ?? 500
    this.onChange = options.onChange
    if (options.startOpen === true) this.open()
  }

  get state(): BreakerState {
    return this.current
  }

  /** Calls may go to Redis. */
  get closed(): boolean {
    return this.current === 'closed'
  }

  /** The last failure, kept after the breaker closes again (for stats); null before any. */
  get lastError(): string | null {
    return this.error
  }

  succeeded(): void {
    this.failures = 0
  }

  failed(error: unknown): void {
    this.error = messageOf(error)
    this.counts.failures++
    if (this.current !== 'closed') return
    if (++this.failures >= this.threshold) this.open()
  }

  /** Opens now, whatever the count. */
  trip(error: unknown): void {
    this.error = messageOf(error)
    if (this.current === 'closed') this.open()
  }

  /** Probes now instead of at the next interval (the connection says it is back). */
  probeSoon(): void {
    if (this.current !== 'open' || this.stopped) return
    this.cancelProbe()
    this.probeTimer = this.clock.setTimer(() => this.runProbe(), 0)
  }

  /**
   * `call`'s result while closed, else `fallback` without calling. A failure or a missed
   * deadline is counted and answered with `fallback`: the caller never sees Redis errors.
   */
  async run<T, F>(fallback: F, call: () => Promise<T>): Promise<T | F> {
    if (this.current !== 'closed') {
      this.counts.rejected++
      return fallback
    }
    this.counts.calls++
    try {
      const result = await withDeadline(call(), this.deadlineMs)
      this.failures = 0
      return result
    } catch (error) {
      this.failed(error)
      return fallback
    }
  }

  /** Resolves true once the breaker is closed, or false after `timeoutMs`. */
  whenClosed(timeoutMs: number): Promise<boolean> {
    if (this.current === 'closed') return Promise.resolve(true)
    return new Promise((resolve) => {
      const done = (): void => {
        this.clock.clearTimer(timer)
        this.closeWaiters.delete(done)
        resolve(this.current === 'closed')
      }
      const timer = this.clock.setTimer(done, timeoutMs)
      this.closeWaiters.add(done)
    })
  }

  /** Cancels the probe timer for good. */
  stop(): void {
    this.stopped = true
    this.cancelProbe()
    for (const done of [...this.closeWaiters]) done()
  }

  private open(): void {
    if (this.current !== 'open') this.counts.opens++
    this.set('open')
    this.scheduleProbe()
  }

  private scheduleProbe(): void {
    if (this.stopped) return
    this.cancelProbe()
    this.probeTimer = this.clock.setTimer(() => this.runProbe(), this.probeIntervalMs)
  }

  private cancelProbe(): void {
    if (this.probeTimer !== undefined) this.clock.clearTimer(this.probeTimer)
    this.probeTimer = undefined
  }

  private runProbe(): void {
    this.probeTimer = undefined
    if (this.current !== 'open' || this.stopped) return
    this.set('half-open')
    withDeadline(this.probe(), this.deadlineMs).then(
      () => {
        if (this.current !== 'half-open') return
        this.failures = 0
        this.set('closed')
      },
      (error: unknown) => {
        this.error = messageOf(error)
        this.counts.failures++
        if (this.current !== 'half-open') return
        this.set('open')
        this.scheduleProbe()
      },
    )
  }

  private set(state: BreakerState): void {
    if (this.current === state) return
    this.current = state
    this.onChange?.(state, this.error)
    if (state === 'closed') for (const done of [...this.closeWaiters]) done()
  }
}

/**
 * `promise`, or a rejection when it has not settled within `ms` of real time. The deadline is
 * measured on real timers, not the injected clock: it bounds real I/O. When the timer fires the
 * rejection waits one event-loop turn, because a loop that was busy past the deadline runs its
 * timers before it reads the socket where the answer may already be waiting: without that turn
 * a busy process would call answered commands timed out and open its breaker for nothing.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false
    const timer = setTimeout(() => {
      setImmediate(() => {
        if (settled) return
        settled = true
        reject(new Error(`Redis did not answer within ${ms} ms`))
      })
    }, ms)
    promise.then(
      (value) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        reject(error instanceof Error ? error : new Error(String(error)))
      },
    )
  })
}
