import { ManualClock } from '../../src/cache/index.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPlexClient, type LibraryItem } from '../../src/plex/index.js'
import { basic, type ClockedPlexApp, json, PLEX_TOKEN, sqliteOf, startService } from '../support/api-harness.js'

const HISTORY_ROWS = 1200

const ROW_FIELDS = [
  'user_id',
  'email',
  'type',
  'title',
  'grandparent_title',
  'parent_index',
  'index',
  'viewed_at',
  'duration',
  'view_offset',
  'progress',
  'view_count',
  'rating',
  'year',
  'thumb',
  'content_rating',
  'studio',
  'summary',
  'genres',
]

interface StoredRow {
  user_id: number
  viewed_at: number
  rating_key: string | null
  type: string
}

describe('GET /api/plex/watch-history', () => {
  let t: ClockedPlexApp
  const get = (query = '', headers: Record<string, string> = {}) =>
    fetch(`${t.url}/api/plex/watch-history${query}`, { headers })

  beforeAll(async () => {
    t = await startService({ plex: true, clock: new ManualClock(), sim: { historyRows: HISTORY_ROWS } })
    const response = await fetch(`${t.url}/api/plex/watch-history/sync`, { method: 'POST' })
    expect(response.status).toBe(200)
  })
  afterAll(() => t.close())

  const stored = (type: string) =>
    sqliteOf(t)
      .prepare(
        'SELECT user_id, viewed_at, rating_key, type FROM watch_history WHERE type = ? AND rating_key IS NOT NULL ORDER BY viewed_at DESC LIMIT 1',
      )
      .get(type) as StoredRow

  async function metadataOf(ratingKey: string): Promise<LibraryItem> {
    const client = createPlexClient({ baseUrl: t.sim.url, token: t.sim.token })
    const [item] = await client.metadata([ratingKey])
    return item!
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const rowFor = (rows: Array<Record<string, any>>, row: StoredRow) =>
    rows.find((r) => r.user_id === row.user_id && r.viewed_at === new Date(row.viewed_at * 1000).toISOString())!

  it('is a bare array of 500 rows by default, newest first, each with exactly the fields of the contract', async () => {
    const response = await get()
    expect(response.status).toBe(200)
    expect(response.headers.get('x-cache')).toBe('MISS')
    const rows = await json(response)
    expect(Array.isArray(rows)).toBe(true)
    expect(rows).toHaveLength(500)
    for (const row of rows) expect(Object.keys(row).sort()).toEqual([...ROW_FIELDS].sort())
    const times = rows.map((row: { viewed_at: string }) => Date.parse(row.viewed_at))
    expect(times).toEqual([...times].sort((a, b) => b - a))
    expect(rows[0].viewed_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  })

  it('maps a movie view field by field from the history row and its metadata', async () => {
    const movie = stored('movie')
    const item = await metadataOf(movie.rating_key!)
    const account = t.sim.control.state().accounts.find((a) => a.id === movie.user_id)!
    const row = rowFor(await json(await get('?limit=5000')), movie)
    const duration = Math.round(item.duration! / 1000)
    expect(row).toEqual({
      user_id: movie.user_id,
      email: account.name,
      type: 'movie',
      title: item.title,
      grandparent_title: null,
      parent_index: null,
      index: null,
      viewed_at: new Date(movie.viewed_at * 1000).toISOString(),
      duration,
      view_offset: duration,
      progress: 100,
      view_count: 1,
      rating: item.rating ?? null,
      year: item.year ?? null,
      thumb: `/api/plex/proxy/image?url=${encodeURIComponent(`${t.sim.url}${item.thumb}`)}`,
      content_rating: item.contentRating ?? null,
      studio: item.studio ?? null,
      summary: item.summary ?? null,
      genres: item.genres,
    })
    expect(row.genres.length).toBeGreaterThan(0)
    expect(row.duration).toBeGreaterThan(0)
  })

  it("shows an episode with its show's title, numbers and poster", async () => {
    const episode = stored('episode')
    const item = await metadataOf(episode.rating_key!)
    const row = rowFor(await json(await get('?limit=5000')), episode)
    expect(row).toMatchObject({
      type: 'episode',
      title: item.title,
      grandparent_title: item.grandparentTitle,
      parent_index: item.parentIndex,
      index: item.index,
      thumb: `/api/plex/proxy/image?url=${encodeURIComponent(`${t.sim.url}${item.grandparentThumb}`)}`,
    })
  })

  it('serves limit, offset and user_id, and keys its cache by the normalized query', async () => {
    const all = await json(await get('?limit=5000'))
    expect(all).toHaveLength(HISTORY_ROWS)
    expect(await json(await get('?limit=3&offset=10'))).toEqual(all.slice(10, 13))
    const userId = all[0].user_id as number
    const mine = await json(await get(`?user_id=${userId}&limit=5000`))
    expect(mine.length).toBeGreaterThan(0)
    expect(mine).toEqual(all.filter((row: { user_id: number }) => row.user_id === userId))

    expect((await get('?limit=7')).headers.get('x-cache')).toBe('MISS')
    expect((await get('?limit=7')).headers.get('x-cache')).toBe('HIT')
    // Same normalized query, same entry: an explicit default offset is no new key.
    expect((await get('?offset=0&limit=07')).headers.get('x-cache')).toBe('HIT')
    expect((await get('?limit=8')).headers.get('x-cache')).toBe('MISS')
  })

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await get('?limit=2')
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^".+"$/)
    const again = await get('?limit=2', { 'if-none-match': etag })
    expect(again.status).toBe(304)
    expect(again.headers.get('x-cache')).toBe('HIT')
  })

  it.each([
    ['?limit=0', 'limit'],
    ['?limit=5001', 'limit'],
    ['?limit=abc', 'limit'],
    ['?limit=1.5', 'limit'],
    ['?offset=-1', 'offset'],
    ['?offset=x', 'offset'],
    ['?user_id=bob', 'user_id'],
  ])('%s is a 400 naming %s', async (query, parameter) => {
    const response = await get(query)
    expect(response.status).toBe(400)
    expect((await json(response)).detail).toContain(`"${parameter}"`)
  })

  it('never shows the token', async () => {
    const body = await (await get('?limit=5000')).text()
    expect(body).not.toContain(PLEX_TOKEN)
    expect(body).not.toMatch(/x-plex-token/i)
  })
})

describe('watch history with auth on', () => {
  let t: ClockedPlexApp

  beforeAll(async () => {
    t = await startService({
      plex: true,
      clock: new ManualClock(),
      env: { ENABLE_AUTH: 'true', AUTH_USERNAME: 'admin', AUTH_PASSWORD: 'correct horse' },
    })
  })
  afterAll(() => t.close())

  it('needs credentials to read and to sync', async () => {
    expect((await fetch(`${t.url}/api/plex/watch-history`)).status).toBe(401)
    expect((await fetch(`${t.url}/api/plex/watch-history/sync`, { method: 'POST' })).status).toBe(401)
    expect(t.sim.control.totalRequests()).toBe(0)
    const auth = basic('admin', 'correct horse')
    expect((await fetch(`${t.url}/api/plex/watch-history`, { headers: auth })).status).toBe(200)
    expect((await fetch(`${t.url}/api/plex/watch-history/sync`, { method: 'POST', headers: auth })).status).toBe(200)
  })
})
