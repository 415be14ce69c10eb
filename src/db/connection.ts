import type { Kysely } from 'kysely'
import type { Clock, TimerHandle } from '../cache/index.js'
import { backoffDelay, type BackoffOptions } from '../plex/backoff.js'
import type { Database, Engine } from './database.js'
import { DatabaseUnavailableError, isDatabaseUnavailable } from './errors.js'
import { migrate, migrations, type Migration } from './migrations.js'
import type { Tables } from './schema.js'

/** What the repositories need: the Kysely, once the schema is there. */
export interface DbSource {
  /** Throws DatabaseUnavailableError until the migrations ran. */
  readonly db: Kysely<Tables>
  readonly engine: Engine
}

type LogFn = (fields: object, message: string) => void

/** What the connection logs through (a pino logger is one). */
export interface DatabaseLogger {
  readonly info: LogFn
  readonly warn: LogFn
  readonly error: LogFn
  readonly debug: LogFn
}

export type DatabaseState = 'connecting' | 'ready' | 'closed'

/** Told whether the database can serve (readiness.ts's DatabaseReadiness is one). */
export interface ReadinessSink {
  migrated(): void
  unavailable(detail: string): void
}

export interface DatabaseConnectionOptions {
  readonly database: Database
  /** Times the retries. */
  readonly clock: Clock
  readonly logger?: DatabaseLogger
  /** Retry delays while PostgreSQL is out of reach; default 1 s doubling up to 30 s. */
  readonly backoff?: BackoffOptions
  readonly migrations?: readonly Migration[]
  readonly readiness?: ReadinessSink
}

/**
 * The database as the service uses it: migrated once at start, and on PostgreSQL retried with
 * backoff while the server is out of reach, so that the service listens and serves what does not
 * need the database meanwhile. Queries made before it is ready fail at once with
 * DatabaseUnavailableError.
 */
export class DatabaseConnection implements DbSource {
  private current: DatabaseState = 'connecting'
  private lastProblem: string | undefined
  private retry: TimerHandle | undefined
  private attempts = 0
  private readonly readyListeners = new Set<() => void>()
  private readonly readyPromise: Promise<void>
  private resolveReady!: () => void

  constructor(private readonly options: DatabaseConnectionOptions) {
    this.readyPromise = new Promise((resolve) => (this.resolveReady = resolve))
  }

  get database(): Database {
    return this.options.database
  }

  get engine(): Engine {
    return this.options.database.engine
  }

  /** Where the data is, fit for a log line (no password). */
  get location(): string {
    return this.options.database.location
  }

  /** For an exit that cannot wait (see Database.closeNow). */
  closeNow(): void {
    this.current = 'closed'
    this.options.readiness?.unavailable('the database is closed: the service is shutting down')
    this.options.database.closeNow()
  }

  get state(): DatabaseState {
    return this.current
  }

  get db(): Kysely<Tables> {
    if (this.current !== 'ready') {
      throw new DatabaseUnavailableError(
        this.current === 'closed'
          ? 'The database is closed: the service is shutting down'
          : `The database at ${this.options.database.location} is not reachable yet${this.lastProblem ? ` (${this.lastProblem})` : ''}; the service keeps retrying`,
      )
    }
    return this.options.database.kysely
  }

  /**
   * Migrates. SQLite: a failure throws (the service cannot start without its file). PostgreSQL:
   * a failure is logged in one line and retried with backoff in the background; resolves with
   * whether the database is ready now.
   */
  async start(): Promise<boolean> {
    if (this.current !== 'connecting') return this.current === 'ready'
    try {
      await this.attempt()
      return true
    } catch (error) {
      if (this.options.database.engine === 'sqlite') throw error
      this.scheduleRetry(error)
      return false
    }
  }

  /** Resolves once the database is ready (never, if it never is: race it with a timeout). */
  whenReady(): Promise<void> {
    return this.readyPromise
  }

  /** `listener` runs once when the database becomes ready (at once if it is). Returns the undo. */
  onReady(listener: () => void): () => void {
    if (this.current === 'ready') {
      listener()
      return () => undefined
    }
    this.readyListeners.add(listener)
    return () => this.readyListeners.delete(listener)
  }

  /** One trivial query; rejects when the database is not ready or does not answer. */
  async ping(): Promise<void> {
    await this.db.selectNoFrom((eb) => eb.lit(1).as('one')).execute()
  }

  /** `/api/health`'s database field: `ok`, `connecting` (never reached yet) or `unavailable`. */
  async health(): Promise<'ok' | 'connecting' | 'unavailable' | 'closed'> {
    if (this.current !== 'ready') return this.current
    try {
      await this.options.database.kysely.selectNoFrom((eb) => eb.lit(1).as('one')).execute()
      return 'ok'
    } catch {
      return 'unavailable'
    }
  }

  async close(): Promise<void> {
    if (this.retry !== undefined) this.options.clock.clearTimer(this.retry)
    this.retry = undefined
    this.current = 'closed'
    this.options.readiness?.unavailable('the database is closed: the service is shutting down')
    await this.options.database.close()
  }

  private async attempt(): Promise<void> {
    await migrate(this.options.database.kysely, this.options.database.engine, this.options.migrations ?? migrations)
    if (this.current === 'closed') return
    this.current = 'ready'
    this.options.readiness?.migrated()
    if (this.attempts > 0)
      this.options.logger?.info(
        { database: this.options.database.location },
        'database reached: migrations ran, the service uses it now',
      )
    this.resolveReady()
    for (const listener of this.readyListeners) {
      try {
        listener()
      } catch (error) {
        this.options.logger?.warn({ err: error }, 'a database-ready listener failed')
      }
    }
    this.readyListeners.clear()
  }

  private scheduleRetry(error: unknown): void {
    if (this.current === 'closed') return
    this.attempts++
    const delay = backoffDelay(this.attempts, this.options.backoff)
    const problem = error instanceof Error ? error.message : String(error)
    const { logger, database } = this.options
    const unreachable = isDatabaseUnavailable(error)
    const what = `PostgreSQL at ${database.location} ${unreachable ? 'is not reachable' : 'could not be prepared'} (${problem})`
    if (problem !== this.lastProblem) {
      logger?.[unreachable ? 'warn' : 'error'](
        { database: database.location, retryInMs: delay },
        `${what}: retrying with backoff; Plex caches are served meanwhile, history, services and settings wait for it`,
      )
    } else {
      logger?.debug(
        { database: database.location, retryInMs: delay, attempt: this.attempts },
        'database still not reachable',
      )
    }
    this.lastProblem = problem
    this.options.readiness?.unavailable(`${what}; retrying with backoff`)
    this.retry = this.options.clock.setTimer(() => {
      this.retry = undefined
      this.attempt().catch((next: unknown) => this.scheduleRetry(next))
    }, delay)
  }
}
