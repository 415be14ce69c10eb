import type { Clock, TimerHandle } from './cache/index.js'
import type { WarmUpProgress } from './features/plex/warm-start.js'
import type { Logger } from './logger.js'

export type Readiness = { readonly ready: true } | { readonly ready: false; readonly detail: string }

const READY: Readiness = Object.freeze({ ready: true })

export type HealthValue = string | Readonly<Record<string, unknown>>

/** What `/api/health` reports beside the database. */
export interface HealthProbes {
  redis: () => HealthValue
  plex: () => HealthValue
  /** Readiness (`/api/health/ready`): the database answers and its migrations ran. */
  database: DatabaseReadiness
  /** Readiness (`/api/health/ready`): the first warm-up of the Plex caches has settled, if this instance runs one. */
  warmUp: WarmUpReadiness
}

/** How long a probe waits for the ping: past it the database counts as not answering. */
export interface PingDeadline {
  readonly clock: Clock
  readonly ms: number
}

/**
 * Whether the database can serve (`GET /api/health/ready`). The layer that opens the database
 * marks it migrated once the migrations ran, and unavailable (with why) while it cannot reach
 * it; while marked migrated, each check also pings, so a database that stops answering turns
 * the probe to not ready at once. With a deadline, a ping stuck on a connection whose network is
 * gone (no reset ever arrives) answers not ready instead of holding the probe.
 */
export class DatabaseReadiness {
  #notReady: string | null = 'the database is not open yet: migrations have not run'

  /** `ping` is one trivial query (`SELECT 1`); it throws or rejects when the database does not answer. */
  constructor(
    private readonly ping: () => unknown,
    private readonly deadline?: PingDeadline,
  ) {}

  migrated(): void {
    this.#notReady = null
  }

  unavailable(detail: string): void {
    this.#notReady = detail
  }

  async check(): Promise<Readiness> {
    if (this.#notReady !== null) return { ready: false, detail: this.#notReady }
    try {
      await this.pingWithin()
      return { ready: true }
    } catch (error) {
      return { ready: false, detail: `the database does not answer: ${(error as Error).message}` }
    }
  }

  private async pingWithin(): Promise<void> {
    const { deadline } = this
    if (!deadline) {
      await this.ping()
      return
    }
    let timer: TimerHandle | undefined
    const expired = new Promise<never>((_resolve, reject) => {
      timer = deadline.clock.setTimer(() => reject(new Error(`no answer within ${deadline.ms} ms`)), deadline.ms)
    })
    try {
      await Promise.race([Promise.resolve().then(() => this.ping()), expired])
    } finally {
      deadline.clock.clearTimer(timer!)
    }
  }
}

export interface WarmUpReadinessOptions {
  /** The first warm-up of the process (`WarmStart.firstWarmUp`), undefined while none began. */
  readonly firstWarmUp: () => WarmUpProgress | undefined
  readonly clock: Clock
  /** Past this since the warm-up began the instance is ready anyway (the caches' hard load timeout). */
  readonly boundMs: number
  readonly logger?: Logger
}

/**
 * Whether the Plex caches have had their first warm-up (`GET /api/health/ready`), so that an
 * orchestrator sends no dashboard to an instance whose caches are cold. The first warm-up gates
 * readiness until it settles, loaded or failed (a Plex that is down must not keep the instance
 * unready), and never longer than the bound. An instance that has begun no warm-up once the
 * leader election answered (a follower with Redis, Plex not configured) is ready at once; and once
 * ready it stays so: a later warm-up (after a Plex server change, or leadership taken over) does
 * not take it out of the load balancer.
 */
export class WarmUpReadiness {
  #open = false
  /** When the jobs started, while the leader election has not yet said whether this instance leads. */
  #decidingSince: number | undefined

  constructor(private readonly options: WarmUpReadinessOptions) {}

  /**
   * The jobs have been started (they run only if this instance leads). `leaderDecided` settles
   * once it knows whether it leads (at once without Redis); if no warm-up has begun by then, none
   * gates readiness.
   */
  jobsStarted(leaderDecided: Promise<unknown>): void {
    if (this.#decidingSince !== undefined || this.#open) return
    this.#decidingSince = this.options.clock.now()
    void leaderDecided.then(() => {
      this.#decidingSince = undefined
      if (this.options.firstWarmUp() === undefined) this.#open = true
    })
  }

  check(): Readiness {
    if (this.#open) return READY
    const warmUp = this.options.firstWarmUp()
    if (warmUp === undefined) {
      if (this.#decidingSince === undefined) return READY
      if (this.pastBound(this.#decidingSince, 'the leader election has not answered')) return READY
      return {
        ready: false,
        detail: 'waiting for the leader election in Redis: the leader warms the Plex caches first',
      }
    }
    if (warmUp.settled) {
      this.#open = true
      return READY
    }
    if (
      this.pastBound(
        warmUp.startedAt,
        `the warm-up (${warmUp.loaded} of ${warmUp.total} loaded, ${warmUp.failed} failed) is still running`,
      )
    )
      return READY
    const failed = warmUp.failed > 0 ? `, ${warmUp.failed} failed` : ''
    return { ready: false, detail: `warming the Plex caches (${warmUp.loaded} of ${warmUp.total} loaded${failed})` }
  }

  private pastBound(since: number, what: string): boolean {
    const waitedMs = this.options.clock.now() - since
    if (waitedMs < this.options.boundMs) return false
    this.#open = true
    this.options.logger?.warn({ waitedMs }, `ready without warm Plex caches: ${what} after ${this.options.boundMs} ms`)
    return true
  }
}
