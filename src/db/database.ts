import { chmodSync, existsSync, mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { createRequire } from 'node:module'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import type pgModule from 'pg'
import type { Engine } from './migrations.js'
import type { Tables } from './schema.js'

export type { Engine } from './migrations.js'

export interface DatabaseSettings {
  /** DATABASE_PATH: the SQLite file, or `:memory:`; used when `url` is null. */
  readonly path: string
  /** DATABASE_URL: a postgres:// URL (TLS through its `sslmode`); wins over `path`. */
  readonly url: string | null
  /** DATABASE_POOL_SIZE: PostgreSQL connections per instance. */
  readonly poolSize: number
  /** DATABASE_STATEMENT_TIMEOUT_MS: PostgreSQL cancels a statement running longer. */
  readonly statementTimeoutMs: number
}

/** The service's database: SQLite (embedded, the default) or PostgreSQL, behind one Kysely. */
export interface Database {
  readonly engine: Engine
  readonly kysely: Kysely<Tables>
  /** The better-sqlite3 handle on SQLite (tests and the SQLite copy tool read it); undefined on PostgreSQL. */
  readonly sqlite: BetterSqlite3.Database | undefined
  /** Where the data is, fit for a log line: the file, or the URL without its password. */
  readonly location: string
  /** Closes (SQLite: folding the WAL back into the file first); safe to call twice. */
  close(): Promise<void>
  /** For an exit that cannot wait: SQLite folds the WAL and closes at once; PostgreSQL connections just end with the process. */
  closeNow(): void
}

/** Opens the database the settings name. SQLite opens its file now; PostgreSQL connects on first use. */
export function createDatabase(settings: DatabaseSettings, onPoolError?: (error: Error) => void): Database {
  return settings.url === null ? openSqlite(settings.path) : openPostgres(settings, onPoolError)
}

/**
 * Opens (creating folder and file when needed) an SQLite database. `:memory:` gives a private
 * in-memory database, for tests.
 */
export function openSqlite(path: string): Database {
  const inMemory = path === ':memory:'
  let created = false
  if (!inMemory) {
    const file = resolve(path)
    // The file holds the Plex token saved through the API: only this user may read it.
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
    created = !existsSync(file)
  }
  let raw: BetterSqlite3.Database | undefined
  try {
    raw = new BetterSqlite3(path)
    if (created) chmodSync(path, 0o600)
    if (!inMemory) raw.pragma('journal_mode = WAL')
    raw.pragma('synchronous = NORMAL')
    raw.pragma('busy_timeout = 5000')
    raw.pragma('foreign_keys = ON')
  } catch (error) {
    raw?.close()
    throw new Error(`DATABASE_PATH "${path}" cannot be opened as an SQLite database: ${(error as Error).message}`, {
      cause: error,
    })
  }
  const kysely = new Kysely<Tables>({ dialect: new SqliteDialect({ database: raw }) })
  const checkpoint = () => {
    if (!raw.open || raw.memory) return
    try {
      raw.pragma('wal_checkpoint(TRUNCATE)')
    } catch {
      // A checkpoint blocked by another connection still leaves a consistent WAL; close anyway.
    }
  }
  let closing: Promise<void> | undefined
  return {
    engine: 'sqlite',
    kysely,
    sqlite: raw,
    location: path,
    close() {
      // Kysely's driver closes the handle itself once the query in flight (if any) is done.
      closing ??= (async () => {
        checkpoint()
        await kysely.destroy()
      })()
      return closing
    },
    closeNow() {
      checkpoint()
      if (raw.open) raw.close()
    },
  }
}

const INT8_OID = 20

/** pg is loaded when PostgreSQL is opened: an instance on SQLite never holds it (a few MB). */
const loadPg = (): typeof pgModule => createRequire(import.meta.url)('pg') as typeof pgModule

/** BIGINT columns hold unix ms and counts, all below 2^53: read them as numbers, not strings. */
const pgTypesOf = (pg: typeof pgModule) => ({
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
})

export function openPostgres(settings: DatabaseSettings, onPoolError?: (error: Error) => void): Database {
  const url = settings.url!
  const pg = loadPg()
  const pool = new pg.Pool({
    connectionString: url,
    max: settings.poolSize,
    statement_timeout: settings.statementTimeoutMs,
    // A database that does not answer fails a query in seconds rather than holding it.
    connectionTimeoutMillis: 5_000,
    keepAlive: true,
    application_name: 'komandorr-cache',
    types: pgTypesOf(pg),
  })
  // An idle connection the server dropped (restart, failover) must not crash the process.
  pool.on('error', (error) => onPoolError?.(error))
  const kysely = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) })
  let closing: Promise<void> | undefined
  return {
    engine: 'postgres',
    kysely,
    sqlite: undefined,
    location: withoutPassword(url),
    close() {
      closing ??= kysely.destroy()
      return closing
    },
    closeNow: () => undefined,
  }
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`. */
export function withoutPassword(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@')
}

/** The password in a DATABASE_URL, raw and decoded, for the log's secret list. */
export function passwordsOf(url: string | null): string[] {
  if (url === null) return []
  try {
    const { password } = new URL(url)
    return password === '' ? [] : [password, decodeURIComponent(password)]
  } catch {
    return []
  }
}
