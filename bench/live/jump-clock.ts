// The service's clock for the idle phase: real time plus an offset that `jump` moves forward,
// firing (in order) the timers that fall due, as if that much time had passed. Lets the bench
// leave a service idle for 10 minutes in a second or two of real time.
import type { Clock, TimerHandle } from '../../src/cache/index.js'

interface JumpTimer {
  at: number
  fn: () => void
  real: NodeJS.Timeout | undefined
}

export class JumpClock implements Clock {
  private offset = 0
  private readonly timers = new Set<JumpTimer>()

  now(): number {
    return performance.now() + this.offset
  }

  wallNow(): number {
    return Date.now() + this.offset
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer: JumpTimer = { at: this.now() + Math.max(0, ms), fn, real: undefined }
    this.arm(timer)
    this.timers.add(timer)
    return timer
  }

  clearTimer(handle: TimerHandle): void {
    const timer = handle as JumpTimer
    clearTimeout(timer.real)
    this.timers.delete(timer)
  }

  /** Moves time forward by `ms` in steps of `stepMs`, letting the event loop run between steps (I/O, promise chains). */
  async jump(ms: number, stepMs = 1_000): Promise<void> {
    for (let moved = 0; moved < ms; moved += stepMs) {
      this.offset += Math.min(stepMs, ms - moved)
      for (;;) {
        const due = [...this.timers].filter((timer) => timer.at <= this.now()).sort((a, b) => a.at - b.at)[0]
        if (due === undefined) break
        this.clearTimer(due)
        due.fn()
        await new Promise((resolve) => setImmediate(resolve))
      }
      // The remaining timers wait the remaining time from here.
      for (const timer of this.timers) this.arm(timer)
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
  }

  private arm(timer: JumpTimer): void {
    clearTimeout(timer.real)
    timer.real = setTimeout(
      () => {
        this.timers.delete(timer)
        timer.fn()
      },
      Math.min(2 ** 31 - 1, Math.max(0, timer.at - this.now())),
    ).unref()
  }
}
