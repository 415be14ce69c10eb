// The two engines the repository and migration suites run on: SQLite in memory, and the real
// PostgreSQL on 127.0.0.1:5432 (TEST_POSTGRES_URL), in a throwaway database per test file.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { openPostgres, openSqlite, type Database, type Engine } from '../../src/db/index.js'

/** Where the tests find PostgreSQL: a URL of a database they may create others from. */
export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

export const ENGINES: readonly Engine[] = ['sqlite', 'postgres']

export interface ThrowawayDatabase {
  readonly name: string
  readonly url: string
  drop(): Promise<void>
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL })
  await client.connect()
  try {
    return await run(client)
  } finally {
    await client.end()
  }
}

/** CREATE DATABASE komandorr_test_<random>; drop() removes it, connections and all. */
export async function createThrowawayDatabase(): Promise<ThrowawayDatabase> {
  const name = `komandorr_test_${randomBytes(6).toString('hex')}`
  await admin((client) => client.query(`CREATE DATABASE ${name}`))
  const url = new URL(POSTGRES_ADMIN_URL)
  url.pathname = `/${name}`
  return {
    name,
    url: url.toString(),
    drop: () => admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  }
}

export const postgresSettings = (url: string) => ({ path: ':memory:', url, poolSize: 4, statementTimeoutMs: 10_000 })

/**
 * For a `describe` per engine: `fresh()` opens an empty, unmigrated database of that engine (on
 * PostgreSQL a new schema of the file's throwaway database), closed after each test.
 */
export function freshDatabases(engine: Engine): { fresh: () => Promise<Database>; throwaway: () => ThrowawayDatabase } {
  let throwaway: ThrowawayDatabase | undefined
  const opened: Database[] = []
  let schemas = 0
  if (engine === 'postgres') {
    beforeAll(async () => {
      throwaway = await createThrowawayDatabase()
    })
    afterAll(async () => {
      await throwaway?.drop()
    })
  }
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((db) => db.close()))
  })
  return {
    throwaway: () => throwaway!,
    async fresh() {
      if (engine === 'sqlite') {
        const db = openSqlite(':memory:')
        opened.push(db)
        return db
      }
      const schema = `test_${++schemas}`
      const url = new URL(throwaway!.url)
      const setup = new pg.Client({ connectionString: url.toString() })
      await setup.connect()
      await setup.query(`CREATE SCHEMA ${schema}`)
      await setup.end()
      // Throwaway data: no need to wait for the disk on every commit.
      url.searchParams.set('options', `-c search_path=${schema} -c synchronous_commit=off`)
      const db = openPostgres(postgresSettings(url.toString()))
      opened.push(db)
      return db
    },
  }
}
