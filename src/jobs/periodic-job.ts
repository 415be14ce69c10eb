import type { Clock, TimerHandle } from '../cache/index.js'

export interface PeriodicJobOptions<T> {
  readonly clock: Clock
  readonly intervalMs: number
  /** One run. `signal` aborts when stop() is called while the run is in flight. */
  readonly run: (signal: AbortSignal) => Promise<T>
  /** A scheduled run failed; a runNow() caller gets its rejection itself. */
  readonly onError?: (error: unknown) => void
}

/**
 * Runs a job now, then every interval until stop(). Runs never overlap: the next one is timed
 * from the start of the previous and waits for its end, and runNow() while a run is in flight
 * joins it. runNow() works whether or not the schedule is started.
 */
export class PeriodicJob<T> {
  private timer: TimerHandle | undefined
  private current: Promise<T> | undefined
  private abort: AbortController | undefined
  private started = false
  // Bumped by start() and stop(): a run that ends after a stop (even one followed by a new
  // start) must not schedule a second chain of timers beside the new one.
  private generation = 0

  constructor(private readonly options: PeriodicJobOptions<T>) {}

  /** The schedule is started (between start() and stop()). */
  get running(): boolean {
    return this.started
  }

  start(): void {
    if (this.started) return
    this.started = true
    this.schedule(0, ++this.generation)
  }

  /** Clears the timer, aborts the run in flight (whoever started it) and waits for it to settle. */
  async stop(): Promise<void> {
    this.started = false
    this.generation++
    if (this.timer !== undefined) this.options.clock.clearTimer(this.timer)
    this.timer = undefined
    this.abort?.abort()
    await this.current?.catch(() => undefined)
  }

  /** Runs now, or joins the run in flight. */
  runNow(): Promise<T> {
    if (this.current !== undefined) return this.current
    const abort = new AbortController()
    this.abort = abort
    this.current = (async () => this.options.run(abort.signal))().finally(() => {
      this.current = undefined
      this.abort = undefined
    })
    return this.current
  }

  private schedule(delayMs: number, generation: number): void {
    const { clock, intervalMs, onError } = this.options
    this.timer = clock.setTimer(() => {
      this.timer = undefined
      const startedAt = clock.now()
      void this.runNow()
        .catch((error: unknown) => onError?.(error))
        .finally(() => {
          if (generation === this.generation)
            this.schedule(Math.max(0, intervalMs - (clock.now() - startedAt)), generation)
        })
    }, delayMs)
  }
}
