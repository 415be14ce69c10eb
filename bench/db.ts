// The database under the watch-history cache: cold page reads (a cache miss is one repository
// read) on a large history, SQLite beside PostgreSQL, and the sync's write throughput on both.
// `npm run bench -- db [--rows N] [--reads N] [--json]` (defaults 1,000,000 rows, 400 reads).
// Needs PostgreSQL at BENCH_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/postgres: it
// creates a throwaway database there and drops it after.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { sql } from 'kysely'
import { ManualClock, percentiles } from '../src/cache/index.js'
import {
  createRepos,
  DatabaseConnection,
  openPostgres,
  openSqlite,
  type Database,
  type WatchHistoryEntry,
} from '../src/db/index.js'
import { watchHistoryRow } from '../src/features/history/watch-history-rows.js'

const ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const USERS = 20
const PAGE = 100
/** Rows per insertBatch call: the sync's page size. */
const SYNC_PAGE = 1_000
const FIVE_YEARS_S = 5 * 365 * 86_400

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : fallback
}

/** A deterministic history: USERS users, plays spread over five years, a few per second at most. */
function entries(from: number, count: number): WatchHistoryEntry[] {
  const out: WatchHistoryEntry[] = []
  for (let i = from; i < from + count; i++) {
    out.push({
      userId: (i * 7919) % USERS,
      userName: `user${(i * 7919) % USERS}`,
      type: i % 3 === 0 ? 'movie' : 'episode',
      title: `Title ${i % 5000}`,
      grandparentTitle: i % 3 === 0 ? null : `Show ${i % 400}`,
      parentIndex: i % 3 === 0 ? null : 1 + (i % 8),
      index: i % 3 === 0 ? null : 1 + (i % 20),
      viewedAt: 1_600_000_000 + Math.floor((i / 1_000_000) * FIVE_YEARS_S),
      duration: 2_700,
      viewOffset: 2_700,
      progress: 100,
      viewCount: 1,
      rating: 7.5,
      year: 2000 + (i % 25),
      thumb: `/library/metadata/${i % 5000}/thumb/1700000000`,
      contentRating: 'TV-14',
      studio: 'Studio',
      summary: 'A summary of a few dozen characters, as Plex has them.',
      genres: ['Drama', 'Comedy'],
      ratingKey: String(i % 5000),
      historyKey: `/status/sessions/history/${i + 1}`,
      librarySectionId: '1',
    })
  }
  return out
}

interface EngineResult {
  engine: string
  rows: number
  sync_rows_per_s: number
  offset: {
    all_p50_ms: number
    all_p99_ms: number
    user_p50_ms: number
    user_p99_ms: number
    first_page_p50_ms: number
  }
  keyset: { p50_ms: number; p99_ms: number }
}

const ms = (v: number) => Math.round(v * 100) / 100

async function measure(name: string, database: Database, rows: number, reads: number): Promise<EngineResult> {
  const connection = new DatabaseConnection({ database, clock: new ManualClock() })
  await connection.start()
  const repo = createRepos(connection).watchHistory
  const db = connection.db

  const started = performance.now()
  for (let i = 0; i < rows; i += SYNC_PAGE) {
    await repo.insertBatch(entries(i, Math.min(SYNC_PAGE, rows - i)))
    if (i % 100_000 === 0) process.stderr.write(`${name}: ${i} rows\r`)
  }
  const syncRowsPerS = rows / ((performance.now() - started) / 1000)
  process.stderr.write(`${name}: ${rows} rows stored\n`)
  if (database.engine === 'postgres') await sql`VACUUM ANALYZE watch_history`.execute(db)
  else await sql`ANALYZE`.execute(db)

  const perUser = new Map<number, number>()
  for (const r of await db
    .selectFrom('watch_history')
    .select(['user_id', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('user_id')
    .execute()) {
    perUser.set(Number(r.user_id), Number(r.n))
  }
  // A cold page: the repository read and the mapping to Komandorr's rows, as a cache miss does.
  const page = async (query: { limit: number; offset: number; userId?: number }) => {
    const t = performance.now()
    const list = await repo.list(query)
    list.map((entry) => watchHistoryRow(entry, 'http://plex.lan:32400'))
    return performance.now() - t
  }
  let seed = 12345
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31
  const all: number[] = []
  const user: number[] = []
  const first: number[] = []
  const keyset: number[] = []
  for (let i = 0; i < reads; i++) {
    all.push(await page({ limit: PAGE, offset: Math.floor(random() * (rows - PAGE)) }))
    const userId = Math.floor(random() * USERS)
    user.push(
      await page({ limit: PAGE, offset: Math.floor(random() * Math.max(0, perUser.get(userId)! - PAGE)), userId }),
    )
    if (i % 4 === 0) first.push(await page({ limit: PAGE, offset: 0 }))
  }
  // The same depth reached by keyset paging: "the 100 rows before (viewed_at, id)", an index seek.
  for (let i = 0; i < reads; i++) {
    const anchorId = 1 + Math.floor(random() * (rows - PAGE))
    const anchor = await db
      .selectFrom('watch_history')
      .select(['viewed_at', 'id'])
      .where('id', '=', anchorId)
      .executeTakeFirstOrThrow()
    const t = performance.now()
    const list = await db
      .selectFrom('watch_history')
      .selectAll()
      .where((eb) => eb(eb.refTuple('viewed_at', 'id'), '<', eb.tuple(anchor.viewed_at, anchor.id)))
      .orderBy('viewed_at', 'desc')
      .orderBy('id', 'desc')
      .limit(PAGE)
      .execute()
    if (list.length === 0 && anchorId > PAGE) throw new Error('keyset page came back empty')
    keyset.push(performance.now() - t)
  }
  await connection.close()
  const p = (samples: number[]) => percentiles(samples)!
  return {
    engine: name,
    rows,
    sync_rows_per_s: Math.round(syncRowsPerS),
    offset: {
      all_p50_ms: ms(p(all).p50),
      all_p99_ms: ms(p(all).p99),
      user_p50_ms: ms(p(user).p50),
      user_p99_ms: ms(p(user).p99),
      first_page_p50_ms: ms(p(first).p50),
    },
    keyset: { p50_ms: ms(p(keyset).p50), p99_ms: ms(p(keyset).p99) },
  }
}

async function admin(query: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL })
  await client.connect()
  try {
    await client.query(query)
  } finally {
    await client.end()
  }
}

export async function main(args: string[]): Promise<void> {
  const rows = option(args, '--rows', 1_000_000)
  const reads = option(args, '--reads', 400)
  const dir = mkdtempSync(join(tmpdir(), 'komandorr-bench-db-'))
  const pgName = `komandorr_bench_${randomBytes(5).toString('hex')}`
  const results: EngineResult[] = []
  try {
    results.push(await measure('sqlite', openSqlite(join(dir, 'bench.db')), rows, reads))
    await admin(`CREATE DATABASE ${pgName}`)
    const url = new URL(ADMIN_URL)
    url.pathname = `/${pgName}`
    results.push(
      await measure(
        'postgres',
        openPostgres({ path: ':memory:', url: url.toString(), poolSize: 4, statementTimeoutMs: 60_000 }),
        rows,
        reads,
      ),
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await admin(`DROP DATABASE IF EXISTS ${pgName} WITH (FORCE)`).catch(() => undefined)
  }
  const target = { sqlite: 20, postgres: 40 } as Record<string, number>
  console.log(
    `\nwatch-history pages of ${PAGE} on ${rows.toLocaleString('en')} rows, ${reads} cold reads each (no cache: repository read + row mapping)`,
  )
  console.log(
    'engine    sync rows/s   offset p50/p99 (all)   offset p50/p99 (user)   first page p50   keyset p50/p99   target p99',
  )
  for (const r of results) {
    console.log(
      `${r.engine.padEnd(9)} ${String(r.sync_rows_per_s).padStart(11)}   ${`${r.offset.all_p50_ms} / ${r.offset.all_p99_ms} ms`.padStart(20)}   ${`${r.offset.user_p50_ms} / ${r.offset.user_p99_ms} ms`.padStart(21)}   ${`${r.offset.first_page_p50_ms} ms`.padStart(14)}   ${`${r.keyset.p50_ms} / ${r.keyset.p99_ms} ms`.padStart(14)}   < ${target[r.engine]} ms`,
    )
  }
  if (args.includes('--json')) console.log(JSON.stringify({ bench: 'db', rows, reads, results }))
}
