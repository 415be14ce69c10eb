// `npm run db:migrate-from-sqlite -- <file>` as a user runs it: a child process, a real SQLite
// file, the real PostgreSQL (a throwaway database).
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/cache/index.js'
import { copyFromSqlite, type TableCopy } from '../../src/db/copy-from-sqlite.js'
import { createRepos, DatabaseConnection, openPostgres, openSqlite } from '../../src/db/index.js'
import { createThrowawayDatabase, postgresSettings, type ThrowawayDatabase } from '../support/databases.js'

const SCRIPT = fileURLToPath(new URL('../../scripts/db-migrate-from-sqlite.ts', import.meta.url))
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
const run = promisify(execFile)

const history = (i: number) => ({
  userId: i % 3,
  userName: `user${i % 3}`,
  type: 'movie',
  title: `Movie ${i}`,
  grandparentTitle: null,
  parentIndex: null,
  index: null,
  viewedAt: 1_700_000_000 + Math.floor(i / 2), // two plays a second: only the history key tells them apart
  duration: 6000,
  viewOffset: 6000,
  progress: 100,
  viewCount: 1,
  rating: null,
  year: 2001,
  thumb: null,
  contentRating: null,
  studio: null,
  summary: null,
  genres: ['Drama'],
  ratingKey: '42',
  historyKey: `/status/sessions/history/${i}`,
  librarySectionId: '1',
})

describe('npm run db:migrate-from-sqlite', () => {
  let dir: string
  let file: string
  let postgres: ThrowawayDatabase
  const copy = (url: string) =>
    run(process.execPath, ['--import', TSX_LOADER, SCRIPT, file], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: url },
      cwd: dir,
    })

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'komandorr-copy-'))
    file = join(dir, 'komandorr.db')
    const sqlite = new DatabaseConnection({ database: openSqlite(file), clock: new ManualClock() })
    await sqlite.start()
    const repos = createRepos(sqlite)
    await repos.services.insert(
      'nas',
      { name: 'NAS', url: 'http://nas.lan', type: 'server', description: null, icon: null, group: null },
      1_764_000_000_000,
    )
    for (let i = 0; i < 3; i++) {
      await repos.traffic.insert({
        serviceId: 'nas',
        at: 1_764_000_000_000 + i,
        bandwidthUp: 1,
        bandwidthDown: 2,
        totalUp: i,
        totalDown: i,
        maxBandwidth: null,
        cpuPercent: null,
        memoryPercent: null,
      })
    }
    await repos.settings.set('plex', { url: 'http://plex.lan:32400', token: 'tok' }, 1)
    await repos.plexStats.raisePeak(6, 1_764_000_000_000)
    await repos.watchHistory.insertBatch(Array.from({ length: 2_500 }, (_, i) => history(i)))
    for (const username of ['ann', 'bob'])
      await repos.viewers.add({
        username,
        passwordHash: `scrypt$16384$8$1$salt$${username}`,
        plexAccountId: 7,
        createdAt: 1,
      })
    await sqlite.close()
    postgres = await createThrowawayDatabase()
  })
  afterAll(async () => {
    await postgres?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('copies every row with its counts checked, adds nothing the second time, and new rows get fresh ids', async () => {
    const target = new DatabaseConnection({
      database: openPostgres(postgresSettings(postgres.url)),
      clock: new ManualClock(),
    })
    try {
      const counts = (copies: TableCopy[]) =>
        Object.fromEntries(copies.map((c) => [c.table, [c.source, c.added, c.target]]))
      expect(counts(await copyFromSqlite(file, target.database))).toEqual({
        services: [1, 1, 1],
        traffic_samples: [3, 3, 3],
        plex_stats: [1, 1, 1],
        settings: [1, 1, 1],
        watch_history: [2_500, 2_500, 2_500],
        viewers: [2, 2, 2],
      })
      expect(counts(await copyFromSqlite(file, target.database))).toEqual({
        services: [1, 0, 1],
        traffic_samples: [3, 0, 3],
        plex_stats: [1, 0, 1],
        settings: [1, 0, 1],
        watch_history: [2_500, 0, 2_500],
        viewers: [2, 0, 2],
      })

      await target.start()
      const repos = createRepos(target)
      expect(await repos.plexStats.get()).toEqual({ peakConcurrent: 6, lastUpdated: 1_764_000_000_000 })
      expect(await repos.settings.get('plex')).toEqual({ url: 'http://plex.lan:32400', token: 'tok' })
      expect((await repos.viewers.get('bob'))?.passwordHash).toBe('scrypt$16384$8$1$salt$bob')
      expect(await repos.watchHistory.insertBatch([history(2_500)])).toEqual({
        added: 1,
        newestViewedAt: 1_700_001_250,
      })
      await repos.traffic.insert({
        serviceId: 'nas',
        at: 5,
        bandwidthUp: 1,
        bandwidthDown: 2,
        totalUp: 1,
        totalDown: 1,
        maxBandwidth: null,
        cpuPercent: null,
        memoryPercent: null,
      })
      expect((await repos.watchHistory.list({ limit: 2 })).map((e) => e.historyKey)).toEqual([
        '/status/sessions/history/2500',
        '/status/sessions/history/2499',
      ])
    } finally {
      await target.close()
    }
  })

  // Two child processes under tsx: slow to start on a loaded machine, hence the longer timeout.
  it('runs as npm run db:migrate-from-sqlite: prints the counts it checked, never the password, and refuses without DATABASE_URL', async () => {
    const url = new URL(postgres.url)
    url.password = 'unused-secret-pw' // trust auth ignores it; the output must not show it
    const [copied, refused] = await Promise.all([
      copy(url.toString()),
      run(process.execPath, ['--import', TSX_LOADER, SCRIPT, file], {
        env: { PATH: process.env.PATH ?? '' },
        cwd: dir,
      }).catch((error: { stderr: string }) => error),
    ])
    expect(copied.stdout).toMatch(/watch_history\s+2500\s+\d+\s+2\d{3}/)
    expect(copied.stdout).toContain('row counts checked')
    expect(copied.stdout + copied.stderr).not.toContain('unused-secret-pw')
    expect(refused.stderr).toContain('set DATABASE_URL')
  }, 120_000)
})
