// The history worker (see history-pages.ts): reads, shapes and serializes watch-history pages on
// its own connection to the service's database, one message at a time.
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { parentPort, workerData } from 'node:worker_threads'
import { openPostgres, type DatabaseSettings } from '../../db/database.js'
import { isDatabaseUnavailable } from '../../db/errors.js'
import type { Tables } from '../../db/schema.js'
import { createWatchHistoryRepo } from '../../db/watch-history-repo.js'
import type { FromHistoryWorker, ToHistoryWorker } from './history-pages.js'
import { historyPage } from './watch-history-rows.js'

const port = parentPort!
const settings = (workerData as { settings: DatabaseSettings }).settings

/** Read only: the main thread migrates and writes; WAL lets this connection read meanwhile. */
function openReader(): { kysely: Kysely<Tables>; engine: 'sqlite' | 'postgres' } {
  if (settings.url !== null) {
    // Pages are read one at a time here: one connection beside the main thread's pool.
    return { kysely: openPostgres({ ...settings, poolSize: 1 }).kysely, engine: 'postgres' }
  }
  const raw = new BetterSqlite3(settings.path, { readonly: true, fileMustExist: true })
  raw.pragma('busy_timeout = 5000')
  return { kysely: new Kysely<Tables>({ dialect: new SqliteDialect({ database: raw }) }), engine: 'sqlite' }
}

const { kysely, engine } = openReader()
const repo = createWatchHistoryRepo({ db: kysely, engine })

port.on('message', (message: ToHistoryWorker) => {
  const { id, query, plexBaseUrl } = message
  historyPage(repo, query, plexBaseUrl).then(
    ({ json, etag, bytes }) => port.postMessage({ id, json, etag, bytes } satisfies FromHistoryWorker),
    (error: unknown) =>
      port.postMessage({
        id,
        problem: error instanceof Error ? error.message : String(error),
        unavailable: isDatabaseUnavailable(error),
      } satisfies FromHistoryWorker),
  )
})
