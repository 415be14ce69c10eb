/** Timers and a monotonic clock, injected so tests decide when a round runs. */
export interface Scheduler {
  /** Monotonic milliseconds, for measuring how long a round took. */
  now(): number
  setTimeout(run: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const realScheduler: Scheduler = {
  now: () => performance.now(),
  setTimeout: (run, ms) => {
    const timer = setTimeout(run, ms)
    timer.unref()
    return timer
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

/** Wall-clock milliseconds, injected where stored times come from. */
export interface WallClock {
  now(): number
}

export const systemClock: WallClock = { now: () => Date.now() }
