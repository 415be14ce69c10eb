/** An opaque handle returned by `Clock.setTimer`. */
export type TimerHandle = object

/**
 * Time as the cache sees it. `now()` is monotonic and decides every age and expiry;
 * `wallNow()` is for display only (fetch timestamps) and never decides anything.
 */
export interface Clock {
  /** Monotonic milliseconds. */
  now(): number
  /** Epoch milliseconds, for display. */
  wallNow(): number
  /** Calls `fn` once after `ms`; a system timer must never keep the process alive. */
  setTimer(fn: () => void, ms: number): TimerHandle
  clearTimer(handle: TimerHandle): void
}

// setTimeout takes a signed 32-bit delay; longer delays fire immediately.
const MAX_TIMER_MS = 2 ** 31 - 1

class PreciseSystemClock implements Clock {
  now(): number {
    return performance.now()
  }

  wallNow(): number {
    return Date.now()
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    return setTimeout(fn, Math.min(Math.max(0, ms), MAX_TIMER_MS)).unref()
  }

  clearTimer(handle: TimerHandle): void {
    clearTimeout(handle as NodeJS.Timeout)
  }
}

class CoarseSystemClock extends PreciseSystemClock {
  private cachedNow = 0
  private readonly forget = (): void => {
    this.cachedNow = 0
  }

  constructor(private readonly resolutionMs: number) {
    super()
  }

  override now(): number {
    // Not `cachedNow || read()`: merging a double with a call's result boxes it on every call.
    if (this.cachedNow === 0) this.read()
    return this.cachedNow
  }

  private read(): void {
    this.cachedNow = performance.now()
    setTimeout(this.forget, this.resolutionMs).unref()
  }
}

/**
 * A clock on `performance.now()`, `Date.now()` and unref'd `setTimeout`. With `resolutionMs > 0`
 * a reading is reused until a timer of that many ms forgets it (lru-cache's `ttlResolution`
 * trick): `performance.now()` costs ~60 ns on these machines, half a cache hit's budget. The
 * reading can lag by as long as the event loop is blocked, which no TTL here notices.
 */
export function createSystemClock(resolutionMs = 1): Clock {
  return resolutionMs > 0 ? new CoarseSystemClock(resolutionMs) : new PreciseSystemClock()
}

/** The process clock, with 1 ms resolution. */
export const systemClock: Clock = createSystemClock(1)

interface ManualTimer {
  readonly at: number
  readonly seq: number
  readonly fn: () => void
}

/** Lets every pending microtask (and promise chain) run to completion. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** A clock for tests: time moves only through `advance`, which fires due timers in order. */
export class ManualClock implements Clock {
  private time: number
  private wallOrigin: number
  private seq = 0
  private timers: ManualTimer[] = []

  constructor(options: { now?: number; wallNow?: number } = {}) {
    this.time = options.now ?? 0
    this.wallOrigin = (options.wallNow ?? Date.UTC(2025, 0, 1)) - this.time
  }

  now(): number {
    return this.time
  }

  wallNow(): number {
    return this.wallOrigin + this.time
  }

  /**
   * Sets the wall clock, as an NTP step would: it may go backwards, and neither the monotonic
   * time nor any timer moves. From here on it moves with `advance` again.
   */
  setWallNow(epochMs: number): void {
    this.wallOrigin = epochMs - this.time
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn }
    this.timers.push(timer)
    return timer
  }

  clearTimer(handle: TimerHandle): void {
    this.timers = this.timers.filter((timer) => timer !== handle)
  }

  /** Timers scheduled and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.timers.length
  }

  /**
   * Moves time forward by `ms`, firing each due timer at its own time, in order, and letting
   * promise chains settle after each one.
   */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms
    await settle()
    for (;;) {
      const next = this.nextDue(target)
      if (next === undefined) break
      this.timers = this.timers.filter((timer) => timer !== next)
      this.time = next.at
      next.fn()
      await settle()
    }
    this.time = target
    await settle()
  }

  private nextDue(target: number): ManualTimer | undefined {
    let next: ManualTimer | undefined
    for (const timer of this.timers) {
      if (timer.at > target) continue
      if (next === undefined || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq)) next = timer
    }
    return next
  }
}
