import type { Clock } from '../../cache/index.js'
import type { Logger } from '../../logger.js'
import type { ServicesRepo } from '../../db/services-repo.js'
import { PeriodicJob } from '../../jobs/periodic-job.js'
import type { BackgroundJob } from '../../jobs/background-job.js'
import { checkUrl, type ServiceCheck } from './check.js'
import type { Service, StatusCounts } from './types.js'

export interface ServiceMonitorOptions {
  readonly services: ServicesRepo
  readonly intervalMs: number
  /** Per check: a service that has not answered by then is a problem. */
  readonly timeoutMs: number
  /** Checks in flight at once during a round, and background checks of new services at most. */
  readonly concurrency: number
  /**
   * A round ends by then: checks still running are dropped (their services keep the last
   * status) and services not reached yet are checked first next round. Unset: no deadline.
   */
  readonly roundDeadlineMs?: number
  /** Times the rounds; its wall time stamps `last_check`. */
  readonly clock: Clock
  readonly check?: ServiceCheck
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'debug'>
}

export interface RoundSummary extends StatusCounts {
  /** True when the monitor was stopped during the round; unfinished checks were not stored. */
  readonly stopped: boolean
  /** Services the round did not finish checking before its deadline (or the stop). */
  readonly unreached: number
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
  private readonly background = new Set<Promise<void>>()
  private backgroundAbort = new AbortController()

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

  /** Cancels the timer, aborts the checks of a running round and the background ones, and waits for them. */
  async stop(): Promise<void> {
    this.backgroundAbort.abort()
    this.backgroundAbort = new AbortController()
    await Promise.all([this.rounds.stop(), ...this.background])
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
    await this.checkOne(service)
    return (await this.options.services.get(service.id)) ?? service
  }

  /**
   * Checks a new or changed service without anyone waiting (a host that never answers would hold
   * the request for the whole timeout). With `concurrency` such checks already running it is
   * left to the next round, which takes never-checked services first.
   */
  checkInBackground(service: Service): void {
    if (this.background.size >= this.options.concurrency) return
    const running: Promise<void> = this.checkOne(service, this.backgroundAbort.signal)
      .then(() => undefined)
      .finally(() => this.background.delete(running))
    this.background.add(running)
  }

  /** Checks and stores; the outcome, or undefined when aborted or failed (logged, never thrown). */
  private async checkOne(service: Service, signal?: AbortSignal): Promise<Service['status'] | undefined> {
    try {
      const outcome = await this.check(service.url, { timeoutMs: this.options.timeoutMs, signal })
      if (signal?.aborted) return undefined
      await this.store(service, outcome)
      return outcome.status
    } catch (error) {
      if (!signal?.aborted)
        this.options.logger?.warn(
          { err: { message: (error as Error).message }, service: service.id },
          'service check failed unexpectedly',
        )
      return undefined
    }
  }

  private async checkAll(stop: AbortSignal): Promise<RoundSummary> {
    const { clock, services: repo, concurrency, logger, roundDeadlineMs } = this.options
    // Oldest result first: services a round's deadline left out go first in the next one.
    const services = (await repo.list()).sort((a, b) => (a.lastCheckAt ?? -Infinity) - (b.lastCheckAt ?? -Infinity))
    const deadline = new AbortController()
    const timer = roundDeadlineMs === undefined ? undefined : clock.setTimer(() => deadline.abort(), roundDeadlineMs)
    const signal = AbortSignal.any([stop, deadline.signal])
    const counts = { total: services.length, online: 0, offline: 0, problem: 0 }
    try {
      await forEachLimited(services, concurrency, signal, async (service) => {
        const status = await this.checkOne(service, signal)
        if (status !== undefined) counts[status]++
      })
    } finally {
      if (timer !== undefined) clock.clearTimer(timer)
    }
    const stopped = stop.aborted
    const unreached = counts.total - counts.online - counts.offline - counts.problem
    if (unreached > 0 && !stopped)
      logger?.warn(
        { unreached, deadlineMs: roundDeadlineMs },
        `service monitor round hit its deadline: ${unreached} services keep their last status`,
      )
    logger?.debug({ ...counts, stopped, unreached }, 'service monitor round finished')
    return { ...counts, stopped, unreached }
  }

  private async store(
    service: Service,
    outcome: { status: Service['status']; responseTimeMs: number | null },
  ): Promise<void> {
    const stored = await this.options.services.recordCheck(service.id, service.url, {
      ...outcome,
      checkedAt: this.options.clock.wallNow(),
    })
    if (stored && service.lastCheckAt !== null && service.status !== outcome.status) {
      this.options.logger?.info(
        { service: service.id, from: service.status, to: outcome.status },
        `service "${service.name}" is now ${outcome.status}`,
      )
    }
  }
}

async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal,
  run: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length && !signal.aborted) await run(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}
