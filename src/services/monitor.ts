import type { Clock } from '../cache/index.js'
import type { Logger } from '../logger.js'
import type { ServicesRepo } from '../db/services-repo.js'
import { PeriodicJob } from '../jobs/periodic-job.js'
import type { BackgroundJob } from '../jobs/background-job.js'
import { checkUrl, type ServiceCheck } from './check.js'
import type { Service, StatusCounts } from './types.js'

export interface ServiceMonitorOptions {
  readonly services: ServicesRepo
  readonly intervalMs: number
  /** Per check: a service that has not answered by then is a problem. */
  readonly timeoutMs: number
  /** Checks in flight at once during a round. */
  readonly concurrency: number
  /** Times the rounds; its wall time stamps `last_check`. */
  readonly clock: Clock
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
  private readonly check: ServiceCheck
  private readonly rounds: PeriodicJob<RoundSummary>

  constructor(private readonly options: ServiceMonitorOptions) {
    this.check = options.check ?? checkUrl
    this.rounds = new PeriodicJob({
      clock: options.clock,
      intervalMs: options.intervalMs,
      run: (signal) => this.checkAll(signal),
      onError: (error) => options.logger?.warn({ err: error }, 'service monitor round failed'),
    })
  }

  /** Runs a round now, then one every interval until stop(). */
  start(): void {
    this.rounds.start()
  }

  /** Cancels the timer, aborts the checks of a running round and waits for it to settle. */
  stop(): Promise<void> {
    return this.rounds.stop()
  }

  /** Checks every service once (joining a round already running) and stores the results. */
  runRound(): Promise<RoundSummary> {
    return this.rounds.runNow()
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

  private async checkAll(signal: AbortSignal): Promise<RoundSummary> {
    const services = this.options.services.list()
    const counts = { total: services.length, online: 0, offline: 0, problem: 0 }
    await forEachLimited(services, this.options.concurrency, async (service) => {
      if (signal.aborted) return
      try {
        const outcome = await this.check(service.url, { timeoutMs: this.options.timeoutMs, signal })
        if (signal.aborted) return
        this.store(service, outcome)
        counts[outcome.status]++
      } catch (error) {
        if (!signal.aborted) this.options.logger?.warn({ err: error, service: service.id }, 'service check failed unexpectedly')
      }
    })
    const stopped = signal.aborted
    this.options.logger?.debug({ ...counts, stopped }, 'service monitor round finished')
    return { ...counts, stopped }
  }

  private store(service: Service, outcome: { status: Service['status']; responseTimeMs: number | null }): void {
    const stored = this.options.services.recordCheck(service.id, service.url, { ...outcome, checkedAt: this.options.clock.wallNow() })
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
