import { existsSync } from 'node:fs'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, sql, SqliteDialect } from 'kysely'
import type { Database } from './database.js'
import { migrate, migrations } from './migrations.js'
import { DATA_TABLES } from './schema.js'

type AnyTables = Record<string, Record<string, unknown>>

export interface TableCopy {
  readonly table: string
  /** Rows in the SQLite file. */
  readonly source: number
  /** Rows this run added to PostgreSQL (0 on a second run). */
  readonly added: number
  /** Rows in PostgreSQL after the copy. */
  readonly target: number
}

/** Rows per INSERT: 23 columns × 1,000 stays under PostgreSQL's 65,535 parameters. */
const CHUNK = 1_000

/** The key column of each table that does not use `id`. */
const KEYS: Readonly<Record<string, string>> = { settings: 'key', viewers: 'username' }

/** Tables whose key the database assigns: their sequence moves past the copied ids. */
const IDENTITY_TABLES = new Set(['traffic_samples', 'watch_history'])

/**
 * Copies every row of an SQLite database of this service into `target` (PostgreSQL, migrated
 * first), keeping ids. Idempotent: a row already there (same key, or the same Plex play) is left
 * alone, so a second run adds nothing. The SQLite file is only read. Throws when PostgreSQL ends
 * up with fewer rows in a table than the file has.
 */
export async function copyFromSqlite(path: string, target: Database): Promise<TableCopy[]> {
  if (target.engine !== 'postgres')
    throw new Error('The copy goes into PostgreSQL: set DATABASE_URL to a postgres:// URL')
  if (!existsSync(path))
    throw new Error(`${path} does not exist: give the path of the service's SQLite file (DATABASE_PATH)`)
  const raw = new BetterSqlite3(path, { readonly: true, fileMustExist: true })
  const source = new Kysely<AnyTables>({ dialect: new SqliteDialect({ database: raw }) })
  try {
    const version = Number(
      (await sql<{ v: number }>`SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations`.execute(source)).rows[0]!
        .v,
    )
    const newest = Math.max(...migrations.map((m) => m.version))
    if (version > newest)
      throw new Error(
        `${path} is at schema version ${version}, newer than this build (${newest}): copy it with a newer komandorr-cache`,
      )
    await migrate(target.kysely, 'postgres')
    const into = target.kysely as unknown as Kysely<AnyTables>
    const copies: TableCopy[] = []
    // A file from before a table's migration has none of its rows: nothing to copy there.
    const present = new Set(
      (await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`.execute(source)).rows.map(
        (r) => r.name,
      ),
    )
    for (const table of DATA_TABLES) if (present.has(table)) copies.push(await copyTable(source, into, table))
    const short = copies.filter((copy) => copy.target < copy.source)
    if (short.length > 0) {
      throw new Error(
        `PostgreSQL has fewer rows than ${path} in ${short.map((c) => `${c.table} (${c.target} < ${c.source})`).join(', ')}`,
      )
    }
    return copies
  } finally {
    await source.destroy()
  }
}

async function copyTable(source: Kysely<AnyTables>, into: Kysely<AnyTables>, table: string): Promise<TableCopy> {
  const key = KEYS[table] ?? 'id'
  let added = 0
  let sourceRows = 0
  let after: unknown = null
  for (;;) {
    let page = source.selectFrom(table).selectAll().orderBy(key).limit(CHUNK)
    if (after !== null) page = page.where(key, '>', after)
    const rows = await page.execute()
    if (rows.length === 0) break
    sourceRows += rows.length
    after = rows.at(-1)![key]
    // plex_stats is one row the migration already made: take the file's values.
    const inserted =
      table === 'plex_stats'
        ? await into
            .insertInto(table)
            .values(rows)
            .onConflict((oc) =>
              oc
                .column('id')
                .doUpdateSet({
                  peak_concurrent: sql.ref('excluded.peak_concurrent'),
                  last_updated: sql.ref('excluded.last_updated'),
                })
                .where(sql.ref(`${table}.peak_concurrent`), 'is distinct from', sql.ref('excluded.peak_concurrent')),
            )
            .returning(sql.lit(1).as('one'))
            .execute()
        : await into
            .insertInto(table)
            .values(rows)
            .onConflict((oc) => oc.doNothing())
            .returning(sql.lit(1).as('one'))
            .execute()
    added += inserted.length
  }
  if (IDENTITY_TABLES.has(table)) {
    await sql`SELECT setval(pg_get_serial_sequence(${table}, 'id'), GREATEST((SELECT COALESCE(MAX(id), 0) FROM ${sql.table(table)}), 1))`.execute(
      into,
    )
  }
  const { n } = await into
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return { table, source: sourceRows, added, target: Number(n) }
}
