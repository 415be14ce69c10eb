export type Readiness = { readonly ready: true } | { readonly ready: false; readonly detail: string }

/**
 * Whether the database can serve (`GET /api/health/ready`). The layer that opens the database
 * marks it migrated once the migrations ran, and unavailable (with why) while it cannot reach
 * it; while marked migrated, each check also pings, so a database that stops answering turns
 * the probe to not ready at once.
 */
export class DatabaseReadiness {
  #notReady: string | null = 'the database is not open yet: migrations have not run'

  /** `ping` is one trivial query (`SELECT 1`); it throws or rejects when the database does not answer. */
  constructor(private readonly ping: () => unknown) {}

  migrated(): void {
    this.#notReady = null
  }

  unavailable(detail: string): void {
    this.#notReady = detail
  }

  async check(): Promise<Readiness> {
    if (this.#notReady !== null) return { ready: false, detail: this.#notReady }
    try {
      await this.ping()
      return { ready: true }
    } catch (error) {
      return { ready: false, detail: `the database does not answer: ${(error as Error).message}` }
    }
  }
}
