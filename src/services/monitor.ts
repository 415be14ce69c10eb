import type { Logger } from '../logger.js'
import type { ServicesRepo } from '../db/services-repo.js'
import type { BackgroundJob } from '../runtime.js'
import { checkUrl, type ServiceCheck } from './check.js'
import { realScheduler, type Scheduler, type WallClock } from './scheduler.js'
import type { Service, StatusCounts } from './types.js'

export interface ServiceMonitorOptions {
  readonly services: ServicesRepo
  readonly intervalMs: number
  /** Per check: a service that has not answered by then is a problem. */
  readonly timeoutMs: number
  /** Checks in flight at once during a round. */
  readonly concurrency: number
  /** Wall clock for `last_check`. */
  readonly clock: WallClock
  readonly scheduler?: Scheduler
  readonly check?: ServiceCheck
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'debug'>
}

export interface RoundSummary extends StatusCounts {
  /** True when the monitor was stopped during the round; unfinished checks were not stored. */
  readonly stopped: boolean
}

/**
 * Checks every service's URL every `intervalMs`. Rounds never overlap: the next one is timed
 * from the start of the previous and waits for its end, and a round asked for while one runs
 * joins it.
 */
export class ServiceMonitor implements BackgroundJob {
  readonly name = 'service-monitor'
  private readonly scheduler: Scheduler
  private readonly check: ServiceCheck
  private running = false
  private timer: unknown = undefined
  private round: Promise<RoundSummary> | undefined
  private roundAbort: AbortController | undefined

  constructor(private readonly options: ServiceMonitorOptions) {
    this.scheduler = options.scheduler ?? realScheduler
    this.check = options.check ?? checkUrl
  }

  /** Runs a round now, then one every interval until stop(). */
  start(): void {
    if (this.running) return
    this.running = true
    this.schedule(0)
  }

  /** Cancels the timer, aborts the checks of a running round and waits for it to settle. */
  async stop(): Promise<void> {
    this.running = false
    if (this.timer !== undefined) this.scheduler.clearTimeout(this.timer)
    this.timer = undefined
    this.roundAbort?.abort()
    await this.round?.catch(() => undefined)
  }

  /** Checks every service once (joining a round already running) and stores the results. */
  runRound(): Promise<RoundSummary> {
    this.round ??= this.checkAll().finally(() => {
      this.round = undefined
      this.roundAbort = undefined
    })
    return this.round
  }

  /**
   * Checks one service now and stores the result (for `POST /api/services/{id}/check`). Not
   * aborted by stop(): a request in flight during shutdown still gets its answer.
   */
  async checkService(service: Service): Promise<Service> {
    const outcome = await this.check(service.url, { timeoutMs: this.options.timeoutMs })
    this.store(service, outcome)
    return this.options.services.get(service.id) ?? service
  }

  private schedule(delayMs: number): void {
    this.timer = this.scheduler.setTimeout(() => {
      this.timer = undefined
      const startedAt = this.scheduler.now()
      void this.runRound().finally(() => {
        if (!this.running) return
        const elapsed = this.scheduler.now() - startedAt
        this.schedule(Math.max(0, this.options.intervalMs - elapsed))
      })
    }, delayMs)
  }

  private async checkAll(): Promise<RoundSummary> {
    const abort = new AbortController()
    this.roundAbort = abort
    const services = this.options.services.list()
    const counts = { total: services.length, online: 0, offline: 0, problem: 0 }
    await forEachLimited(services, this.options.concurrency, async (service) => {
      if (abort.signal.aborted) return
      try {
        const outcome = await this.check(service.url, { timeoutMs: this.options.timeoutMs, signal: abort.signal })
        if (abort.signal.aborted) return
        this.store(service, outcome)
        counts[outcome.status]++
      } catch (error) {
        if (!abort.signal.aborted) this.options.logger?.warn({ err: error, service: service.id }, 'service check failed unexpectedly')
      }
    })
    const stopped = abort.signal.aborted
    this.options.logger?.debug({ ...counts, stopped }, 'service monitor round finished')
    return { ...counts, stopped }
  }

  private store(service: Service, outcome: { status: Service['status']; responseTimeMs: number | null }): void {
    const stored = this.options.services.recordCheck(service.id, service.url, { ...outcome, checkedAt: this.options.clock.now() })
    if (stored && service.lastCheckAt !== null && service.status !== outcome.status) {
      this.options.logger?.info({ service: service.id, from: service.status, to: outcome.status }, `service "${service.name}" is now ${outcome.status}`)
    }
  }
}

async function forEachLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await run(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}
