import type { Clock, TimerHandle } from './cache/index.js'

export type Readiness = { readonly ready: true } | { readonly ready: false; readonly detail: string }

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
