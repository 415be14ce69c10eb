import type { Cache, Clock, TimerHandle } from '../../cache/index.js'
import type { Logger } from '../../logger.js'
import type { PlexConnection } from '../../plex/plex-connection.js'

export interface WarmStartOptions {
  readonly plex: PlexConnection
  /** The Plex-backed caches, loaded once when the job starts and after every Plex server change. */
  readonly caches: ReadonlyArray<Pick<Cache<unknown>, 'warm' | 'reload'>>
  readonly clock: Clock
  readonly logger?: Logger
}

/** How far a warm-up has got: `/api/health/ready` waits for the first one of the process. */
export interface WarmUpProgress {
  /** On the runtime's clock. */
  readonly startedAt: number
  readonly total: number
  readonly loaded: number
  readonly failed: number
  readonly settled: boolean
}

type MutableProgress = { -readonly [K in keyof WarmUpProgress]: WarmUpProgress[K] }

/**
 * Loads the Plex-backed caches once, in the background, when the server starts listening and
 * when the Plex server is configured or changed, so that the first dashboards find values
 * instead of waiting for Plex. A background job: with Redis only the leader runs it, and the
 * other instances take the values from the shared layer on their first read. At start a fresh
 * value already in the shared layer is taken (a restart costs Plex nothing); after a server
 * change every cache reloads from the new server, once the change has cleared them.
 */
export class WarmStart {
  readonly name = 'cache-warm-start'
  private unsubscribe: (() => void) | undefined
  private timer: TimerHandle | undefined
  private running: Promise<unknown> | undefined
  private first: MutableProgress | undefined

  constructor(private readonly options: WarmStartOptions) {}

  start(): void {
    if (this.unsubscribe !== undefined) return
    // After the change's own listeners (the clear) have run: a later tick, not this one.
    this.unsubscribe = this.options.plex.onChange(() => {
      if (this.timer !== undefined) this.options.clock.clearTimer(this.timer)
      this.timer = this.options.clock.setTimer(() => {
        this.timer = undefined
        this.run('reload')
      }, 0)
    })
    this.run('warm')
  }

  async stop(): Promise<void> {
    this.unsubscribe?.()
    this.unsubscribe = undefined
    if (this.timer !== undefined) this.options.clock.clearTimer(this.timer)
    this.timer = undefined
    await this.running
  }

  /** Settles when the latest warm-up has (for tests and the benchmark). */
  get settled(): Promise<unknown> {
    return this.running ?? Promise.resolve()
  }

  /** The first warm-up of this process (the one at start), undefined until it begins. */
  get firstWarmUp(): WarmUpProgress | undefined {
    return this.first
  }

  private run(how: 'warm' | 'reload'): void {
    if (!this.options.plex.configured) return
    const started = this.options.clock.now()
    const caches = this.options.caches
    const progress: MutableProgress = { startedAt: started, total: caches.length, loaded: 0, failed: 0, settled: false }
    if (how === 'warm') this.first ??= progress
    const loads = caches.map((cache) =>
      (how === 'warm' ? cache.warm() : cache.reload()).then((result) => {
        if (result.ok) progress.loaded++
        else progress.failed++
        return result
      }),
    )
    const warming = Promise.all(loads)
      .then((results) => {
        const failed = results.filter((result) => !result.ok)
        const ms = Math.round(this.options.clock.now() - started)
        if (failed.length === 0) this.options.logger?.info({ caches: caches.length, ms }, 'Plex caches warmed')
        else
          this.options.logger?.warn(
            { failed: failed.map((r) => ({ cache: r.name, error: r.error })), ms },
            'Plex caches warmed, some failed',
          )
      })
      .finally(() => {
        progress.settled = true
      })
    this.running = warming
  }
}
