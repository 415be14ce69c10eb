import { ManualClock } from '../../src/cache/index.js'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { historyEntry } from '../../src/features/history/watch-history-sync.js'
import type { HistoryRow } from '../../src/plex/index.js'
import {
  type ClockedPlexApp,
  everyStoredText,
  json,
  PLEX_TOKEN,
  sqliteOf,
  startService,
} from '../support/api-harness.js'
import { sleep } from '../support/eventually.js'

const HISTORY_ROWS = 3500
const HISTORY = '/status/sessions/history/all'
const METADATA = '/library/metadata/:ids'

const sync = (t: ClockedPlexApp) => fetch(`${t.url}/api/plex/watch-history/sync`, { method: 'POST' })
const storedRows = (t: ClockedPlexApp) =>
  (sqliteOf(t).prepare('SELECT COUNT(*) AS n FROM watch_history').get() as { n: number }).n

/** Plays an item to the end in the simulator, which logs the view in its history. */
function watchSomething(t: ClockedPlexApp, accountId = 1): void {
  t.sim.control.advance(60)
  const session = t.sim.control.startSession({ kind: 'movie', accountId })
  t.sim.control.advance(30)
  t.sim.control.stopSession(session.sessionKey)
}

describe('watch history sync', () => {
  let t: ClockedPlexApp

  beforeAll(async () => {
    t = await startService({ plex: true, clock: new ManualClock(), sim: { historyRows: HISTORY_ROWS } })
  })
  afterAll(() => t.close())
  afterEach(() => t.sim.control.clearFaults())

  it('copies thousands of rows page by page, with batched metadata lookups instead of one per row', async () => {
    const response = await sync(t)
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual({
      success: true,
      message: `Watch history sync completed: ${HISTORY_ROWS} new entries`,
      added: HISTORY_ROWS,
      updated: 0,
    })
    expect(storedRows(t)).toBe(HISTORY_ROWS)

    const counts = t.counts()
    expect(counts[HISTORY]).toBe(Math.ceil(HISTORY_ROWS / 1000))
    expect(counts['/accounts']).toBe(1)
    // At most one request per 50 distinct items of a page: a handful, not 3,500.
    const items = t.sim.control.state().library.items
    expect(counts[METADATA]).toBeGreaterThan(0)
    expect(counts[METADATA]).toBeLessThanOrEqual(Math.ceil(HISTORY_ROWS / 1000) * Math.ceil(items / 50))
    expect(counts[METADATA]).toBeLessThan(20)
  })

  it('a second sync re-reads only the newest second and adds nothing', async () => {
    t.sim.control.resetCounts()
    const response = await sync(t)
    expect(await json(response)).toMatchObject({ success: true, added: 0, updated: 0 })
    expect(storedRows(t)).toBe(HISTORY_ROWS)
    expect(t.counts()[HISTORY]).toBe(1)
    expect(t.counts()[METADATA] ?? 0).toBeLessThanOrEqual(1)
  })

  it('picks up a new view incrementally, once', async () => {
    watchSomething(t)
    t.sim.control.resetCounts()
    expect(await json(await sync(t))).toMatchObject({ success: true, added: 1 })
    expect(t.counts()[HISTORY]).toBe(1)
    expect(await json(await sync(t))).toMatchObject({ success: true, added: 0 })
    expect(storedRows(t)).toBe(HISTORY_ROWS + 1)
  })

  it('keeps the rows of deleted items with what Plex still has', () => {
    const deleted = sqliteOf(t).prepare('SELECT * FROM watch_history WHERE rating_key IS NULL').all() as Array<
      Record<string, unknown>
    >
    expect(deleted.length).toBeGreaterThan(0)
    for (const row of deleted) {
      expect(row.history_key).toMatch(/^\/status\/sessions\/history\/\d+$/)
      expect(row.title).not.toBe('')
      expect(row.type).toMatch(/^(movie|episode|track)$/)
      expect(row.user_id).toEqual(expect.any(Number))
      expect(row.duration).toBeNull()
      expect(row.thumb).toBeNull()
      expect(row.genres).toBe('[]')
    }
  })

  it('stores thumbs as Plex paths and the token nowhere', () => {
    const thumbs = sqliteOf(t)
      .prepare('SELECT thumb FROM watch_history WHERE thumb IS NOT NULL')
      .pluck()
      .all() as string[]
    expect(thumbs.length).toBeGreaterThan(HISTORY_ROWS / 2)
    for (const thumb of thumbs) expect(thumb).toMatch(/^\/library\/metadata\/\d+\/thumb\/\d+$/)
    expect(everyStoredText(t).filter((text) => text.includes(PLEX_TOKEN))).toEqual([])
  })

  it('a view whose user Plex no longer lists is stored without a name, and a NULL user row is served as such', async () => {
    const row: HistoryRow = {
      historyKey: '/status/sessions/history/999999',
      deleted: true,
      title: 'Gone',
      type: 'movie',
      viewedAt: 1_700_000_000,
      accountID: 424242,
    }
    expect(historyEntry(row, undefined, new Map([[1, 'owner']]))).toMatchObject({
      userId: 424242,
      userName: null,
      title: 'Gone',
    })

    const nullUser = { ...historyEntry(row, undefined, new Map()), userId: null, viewedAt: 1 }
    expect((await t.runtime.repos.watchHistory.insertBatch([nullUser, nullUser])).added).toBe(1)
    expect(await json(await sync(t))).toMatchObject({ success: true, added: 0 })
    const served = await json(await fetch(`${t.url}/api/plex/watch-history?limit=1&offset=${storedRows(t) - 1}`))
    expect(served).toEqual([
      expect.objectContaining({ user_id: null, email: null, title: 'Gone', viewed_at: '1970-01-01T00:00:01.000Z' }),
    ])
  })

  it('keeps two plays of the same item by the same user that end in the same second (two historyKeys)', async () => {
    t.sim.control.advance(60)
    const first = t.sim.control.startSession({ kind: 'movie', accountId: 1 })
    const second = t.sim.control.startSession({ kind: 'movie', accountId: 1, ratingKey: first.ratingKey! })
    t.sim.control.advance(30)
    t.sim.control.stopSession(first.sessionKey)
    t.sim.control.stopSession(second.sessionKey)
    const before = storedRows(t)
    expect(await json(await sync(t))).toMatchObject({ success: true, added: 2 })
    const plays = sqliteOf(t)
      .prepare(
        'SELECT history_key, viewed_at FROM watch_history WHERE rating_key = ? AND user_id = 1 ORDER BY id DESC LIMIT 2',
      )
      .all(String(first.ratingKey)) as Array<{ history_key: string; viewed_at: number }>
    expect(plays).toHaveLength(2)
    expect(plays[0]!.viewed_at).toBe(plays[1]!.viewed_at)
    expect(plays[0]!.history_key).not.toBe(plays[1]!.history_key)
    // The boundary second is read again by the next sync: still two rows, not three or one.
    expect(await json(await sync(t))).toMatchObject({ success: true, added: 0 })
    expect(storedRows(t)).toBe(before + 2)
  })

  it('a sync asked for while one runs joins it: one pass over Plex for both', async () => {
    watchSomething(t)
    t.sim.control.resetCounts()
    await t.sim.control.setFault({ endpoint: HISTORY, latencyMs: 300 })
    const [a, b] = await Promise.all([sync(t), sync(t)])
    const [bodyA, bodyB] = [await json(a), await json(b)]
    expect(bodyA).toMatchObject({ success: true, added: 1 })
    expect(bodyB).toEqual(bodyA)
    expect(t.counts()[HISTORY]).toBe(1)
    expect(t.counts()['/accounts']).toBe(1)
  })

  it('answers 503 with a detail while Plex is down, and resumes from where it was once Plex is back', async () => {
    watchSomething(t)
    const before = storedRows(t)
    await t.sim.control.setFault({ mode: 'outage' })
    const response = await sync(t)
    expect(response.status).toBe(503)
    const body = await json(response)
    expect(body).toMatchObject({ success: false })
    expect(body.detail).toMatch(/watch history/)
    expect(body.message).toBe(body.detail)
    expect(JSON.stringify(body)).not.toContain(PLEX_TOKEN)
    await t.sim.control.clearFaults()
    expect(await json(await sync(t))).toMatchObject({ success: true, added: 1 })
    expect(storedRows(t)).toBe(before + 1)
  })

  it('runs every WATCH_HISTORY_SYNC_INTERVAL on the injected clock', async () => {
    const job = t.runtime.watchHistorySync
    const interval = t.runtime.config.jobs.watchHistorySyncMs
    t.sim.control.resetCounts()
    job.start()
    try {
      await t.clock.advance(0)
      await vi.waitFor(() => expect(t.counts()[HISTORY]).toBe(1))
      watchSomething(t)
      const before = storedRows(t)
      await t.clock.advance(interval - 1000)
      await sleep(100)
      expect(t.counts()[HISTORY]).toBe(1)
      await t.clock.advance(1000)
      await vi.waitFor(() => expect(storedRows(t)).toBe(before + 1))
      expect(t.counts()[HISTORY]).toBe(2)
    } finally {
      await job.stop()
    }
    await t.clock.advance(interval * 3)
    await sleep(100)
    expect(t.counts()[HISTORY]).toBe(2)
  })
})

describe('watch history sync without a Plex server', () => {
  let t: ClockedPlexApp

  beforeAll(async () => {
    t = await startService({ plex: true, clock: new ManualClock(), configured: false })
  })
  afterAll(() => t.close())

  it('says Plex is not configured and asks nothing of anyone', async () => {
    const response = await sync(t)
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual({
      success: false,
      message: 'Plex not configured: set the Plex server first',
      added: 0,
      updated: 0,
    })
    expect(t.sim.control.totalRequests()).toBe(0)
  })
})
