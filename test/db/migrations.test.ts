import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer, connect, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { sql, type Kysely } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/cache/index.js'
import { DatabaseConnection, migrate, migrations, openPostgres, openSqlite, type Database } from '../../src/db/index.js'
import { ENGINES, freshDatabases, postgresSettings } from '../support/databases.js'

const tableNames = async (db: Database) =>
  db.engine === 'sqlite'
    ? (
        await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`.execute(
          db.kysely,
        )
      ).rows.map((r) => r.name)
    : (
        await sql<{
          name: string
        }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`.execute(
          db.kysely,
        )
      ).rows.map((r) => r.name)

const appliedVersions = async <T>(db: Kysely<T>) =>
  (await sql<{ version: number }>`SELECT version FROM schema_migrations ORDER BY version`.execute(db)).rows.map((r) =>
    Number(r.version),
  )

describe.each(ENGINES)('migrations on %s', (engine) => {
  const { fresh, throwaway } = freshDatabases(engine)

  it('applies each migration once: migrating again changes nothing and keeps the data', async () => {
    const db = await fresh()
    expect(await migrate(db.kysely, engine)).toBe(migrations.length)
    await db.kysely.insertInto('settings').values({ key: 'kept', value: '1', updated_at: 0 }).execute()
    expect(await migrate(db.kysely, engine)).toBe(0)
    expect(await appliedVersions(db.kysely)).toEqual(migrations.map((m) => m.version))
    expect(await db.kysely.selectFrom('settings').select('value').where('key', '=', 'kept').executeTakeFirst()).toEqual(
      { value: '1' },
    )
    expect(await tableNames(db)).toEqual([
      'plex_stats',
      'schema_migrations',
      'services',
      'settings',
      'traffic_samples',
      'viewers',
      'watch_history',
      'watch_history_days',
      'watch_history_user_days',
    ])
  })

  it('runs only the migrations the database lacks, in version order, each all or nothing', async () => {
    const db = await fresh()
    const list = [
      { version: 2, name: 'second', statements: () => ['ALTER TABLE t ADD COLUMN b TEXT'] },
      { version: 1, name: 'first', statements: () => ['CREATE TABLE t (a TEXT)'] },
    ]
    expect(await migrate(db.kysely, engine, list.slice(1))).toBe(1)
    expect(await migrate(db.kysely, engine, list)).toBe(1)
    await sql`INSERT INTO t (a, b) VALUES ('x', 'y')`.execute(db.kysely)

    const broken = [
      ...list,
      { version: 3, name: 'broken', statements: () => ['CREATE TABLE u (x TEXT)', 'CREATE TABLE nope nope'] },
    ]
    await expect(migrate(db.kysely, engine, broken)).rejects.toThrow(/migration 3 \(broken\) failed/)
    expect(await tableNames(db)).not.toContain('u')
    expect(await appliedVersions(db.kysely)).toEqual([1, 2])
  })

  it('refuses a database written by a newer build', async () => {
    const db = await fresh()
    await migrate(db.kysely, engine)
    await sql`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`.execute(db.kysely)
    await expect(migrate(db.kysely, engine)).rejects.toThrow(/schema version 999/)
  })

  if (engine === 'postgres') {
    it('migrates once when five instances start together on a fresh database', async () => {
      const instances = Array.from({ length: 5 }, () => openPostgres(postgresSettings(throwaway().url)))
      try {
        const applied = await Promise.all(instances.map((db) => migrate(db.kysely, 'postgres')))
        expect(applied.reduce((a, b) => a + b, 0)).toBe(migrations.length)
        expect(await appliedVersions(instances[0]!.kysely)).toEqual(migrations.map((m) => m.version))
        expect(await instances[1]!.kysely.selectFrom('plex_stats').selectAll().execute()).toEqual([
          { id: 1, peak_concurrent: 0, last_updated: null },
        ])
      } finally {
        await Promise.all(instances.map((db) => db.close()))
      }
    })

    it('comes up without PostgreSQL, says so in one line, and migrates once it answers', async () => {
      const clock = new ManualClock()
      const lines: string[] = []
      const log = (_: unknown, message: string) => void lines.push(message)
      const logger = { info: log, warn: log, error: log, debug: () => undefined }
      // PostgreSQL "on another host": a port that refuses until a forwarder to the real server opens on it.
      const port = await freePort()
      const url = new URL(throwaway().url)
      url.port = String(port)
      url.password = 'pw-secret-1'
      const connection = new DatabaseConnection({
        database: openPostgres(postgresSettings(url.toString())),
        clock,
        logger,
        backoff: { initialMs: 1000, jitter: 0 },
      })
      const forwarder = createServer((socket) => socket.pipe(connect(5432, '127.0.0.1')).pipe(socket))
      try {
        expect(await connection.start()).toBe(false)
        expect(connection.state).toBe('connecting')
        expect(() => connection.db).toThrow(/not reachable yet/)
        expect(await connection.health()).toBe('connecting')
        await clock.advance(1000) // the first retry, still refused: no second warning
        expect(lines).toHaveLength(1)
        expect(lines[0]).toMatch(
          /^PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/komandorr_test_\w+ is not reachable .*retrying with backoff/,
        )
        expect(lines[0]).not.toContain('pw-secret-1')

        await new Promise<void>((resolve) => forwarder.listen(port, '127.0.0.1', resolve))
        const ready = connection.whenReady()
        await clock.advance(2000)
        await ready
        expect(connection.state).toBe('ready')
        expect(await connection.health()).toBe('ok')
        expect(await appliedVersions(connection.db)).toEqual(migrations.map((m) => m.version))
        expect(lines.at(-1)).toMatch(/database reached/)
      } finally {
        await connection.close()
        forwarder.close()
      }
    })
  }
})

describe('SQLite files', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'komandorr-db-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('creates the folder and a file only its owner can read, in WAL mode with foreign keys on', async () => {
    const path = join(dir, 'nested', 'deeper', 'komandorr.db')
    const db = openSqlite(path)
    expect(db.sqlite!.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.sqlite!.pragma('foreign_keys', { simple: true })).toBe(1)
    expect(db.sqlite!.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    await db.close()
  })

  it('upgrades a database of the previous release (schema version 1) and keeps its rows', async () => {
    const path = join(dir, 'old.db')
    const old = new BetterSqlite3(path)
    old.exec(
      `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
    )
    for (const statement of migrations[0]!.statements(
      { bigint: 'INTEGER', double: 'REAL', rowId: 'INTEGER PRIMARY KEY' },
      'sqlite',
    ))
      old.exec(statement)
    old.prepare("INSERT INTO schema_migrations VALUES (1, 'initial schema', 0)").run()
    const insert = old.prepare(
      'INSERT INTO watch_history (user_id, title, viewed_at, rating_key, history_key) VALUES (?, ?, ?, ?, ?)',
    )
    insert.run(1, 'kept', 1_700_000_000, '10', '/status/sessions/history/1')
    insert.run(2, 'kept too', 1_700_000_000, '10', '/status/sessions/history/2')
    old.close()

    const db = openSqlite(path)
    expect(await migrate(db.kysely, 'sqlite')).toBe(migrations.length - 1)
    expect(
      (await db.kysely.selectFrom('watch_history').select('title').orderBy('id').execute()).map((r) => r.title),
    ).toEqual(['kept', 'kept too'])
    // The same play again is still one row; another play of the same item in the same second is a second one.
    await sql`INSERT INTO watch_history (user_id, title, viewed_at, rating_key, history_key) VALUES (1, 'dup', 1700000000, '10', '/status/sessions/history/1') ON CONFLICT DO NOTHING`.execute(
      db.kysely,
    )
    await sql`INSERT INTO watch_history (user_id, title, viewed_at, rating_key, history_key) VALUES (1, 'again', 1700000000, '10', '/status/sessions/history/3') ON CONFLICT DO NOTHING`.execute(
      db.kysely,
    )
    expect(
      (await db.kysely.selectFrom('watch_history').select('title').orderBy('id').execute()).map((r) => r.title),
    ).toEqual(['kept', 'kept too', 'again'])
    await db.close()
  })

  it('closes with the WAL folded back into the main file, twice without harm', async () => {
    const path = join(dir, 'wal.db')
    const connection = new DatabaseConnection({ database: openSqlite(path), clock: new ManualClock() })
    expect(await connection.start()).toBe(true)
    await connection.db.insertInto('settings').values({ key: 'k', value: '"v"', updated_at: 0 }).execute()
    await connection.close()
    await connection.close()
    expect(() => statSync(`${path}-wal`)).toThrow()
    const reopened = new BetterSqlite3(path, { readonly: true })
    expect(reopened.prepare("SELECT value FROM settings WHERE key = 'k'").get()).toEqual({ value: '"v"' })
    reopened.close()
  })

  it('refuses to start on a file that is not a database', () => {
    const path = join(dir, 'not-a-db')
    writeFileSync(path, 'just text, not SQLite '.repeat(100))
    expect(() => openSqlite(path)).toThrow(
      `DATABASE_PATH "${path}" cannot be opened as an SQLite database: file is not a database`,
    )
  })
})

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
