import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { etagOf } from '../../src/cache/entry.js'
import { basic, json, jsonInit, simJson, type PlexApp, type Raw, startService } from '../support/api-harness.js'
import { ADMIN, AUTH_ENV, GroundTruth } from '../support/viewer-isolation.js'

const admin = basic(ADMIN.user, ADMIN.password)
const PASSWORD = 'a long viewer password'
const CACHE_FIELDS = ['cached', 'cache_age', 'timestamp', 'stale']

interface Someone {
  readonly account: number
  readonly headers: Record<string, string>
}

async function makeViewer(t: PlexApp, username: string, account: number): Promise<Someone> {
  const made = await fetch(
    `${t.url}/api/viewers`,
    jsonInit('POST', { username, password: PASSWORD, plex_account_id: account }, admin),
  )
  expect(made.status, await made.clone().text()).toBe(201)
  return { account, headers: basic(username, PASSWORD) }
}

/** The value behind an object answer: the answer without the cache's own fields, in its order. */
const valueOf = (body: Raw) =>
  Object.fromEntries(Object.entries(body).filter(([field]) => !CACHE_FIELDS.includes(field)))

/** The newest movies (no folding: a movie is its own entry) of `sections`, as the simulator lists them. */
async function newestMovies(t: PlexApp, sections: readonly string[]): Promise<string[]> {
  const items: Raw[] = []
  for (const key of sections)
    items.push(
      ...(((
        await simJson(
          t.sim,
          `/library/sections/${key}/recentlyAdded?X-Plex-Container-Start=0&X-Plex-Container-Size=1000`,
        )
      ).Metadata ?? []) as Raw[]),
    )
  return items
    .filter((item) => item.thumb !== undefined)
    .sort((a, b) => b.addedAt - a.addedAt)
    .slice(0, 30)
    .map((item) => item.title as string)
}

describe('what viewers see of the libraries shared with them', () => {
  let t: PlexApp
  let truth: GroundTruth
  // The simulator's plex.tv shares every library with most users, only the movie sections with every third.
  let everything: Someone
  let moviesOnly: Someone
  let owner: Someone
  let stranger: Someone
  const get = (path: string, headers: Record<string, string>) => fetch(t.url + path, { headers })

  beforeAll(async () => {
    t = await startService({ plex: true, env: AUTH_ENV, sim: { sharedUsers: 6 } })
    truth = new GroundTruth(t.sim)
    await truth.readLibraries()
    const shared = t.sim.control.state().accounts.filter((a) => a.id > 1)
    const all = truth.sectionsOf(null)
    const full = shared.find((a) => truth.sectionsOf(a.id).length === all.length)!
    const partial = shared.find(
      (a) => truth.sectionsOf(a.id).length > 0 && truth.sectionsOf(a.id).every((s) => s.type === 'movie'),
    )!
    expect(partial, 'a user shared only the movie sections').toBeDefined()
    everything = await makeViewer(t, 'ann', full.id)
    moviesOnly = await makeViewer(t, 'bob', partial.id)
    owner = await makeViewer(t, 'olga', 1)
    stranger = await makeViewer(t, 'sam', 4242)
  }, 30_000)
  afterAll(() => t?.close())

  it("counts a viewer's totals over their shared sections only; the admin's answer is the server's, without the breakdown", async () => {
    const ofAdmin = await get('/api/plex/stats', admin)
    const body = await json(ofAdmin)
    expect(Object.keys(valueOf(body)).sort()).toEqual([
      'last_updated',
      'peak_concurrent',
      'server_name',
      'server_url',
      'token_configured',
      'total_movies',
      'total_tv_shows',
      'total_users',
    ])
    expect(ofAdmin.headers.get('etag')).toBe(etagOf(JSON.stringify(valueOf(body))))
    expect({ total_movies: body.total_movies, total_tv_shows: body.total_tv_shows }).toEqual(truth.totalsOf(null))

    const totals = async (who: Someone) => {
      const mine = await json(await get('/api/plex/stats', who.headers))
      expect(mine).not.toHaveProperty('total_users')
      expect(mine).not.toHaveProperty('libraries')
      return { total_movies: mine.total_movies, total_tv_shows: mine.total_tv_shows }
    }
    expect(await totals(everything)).toEqual(truth.totalsOf(everything.account))
    const movies = await totals(moviesOnly)
    expect(movies).toEqual(truth.totalsOf(moviesOnly.account))
    expect(movies.total_tv_shows).toBe(0)
    expect(movies.total_movies).toBeGreaterThan(0)
    expect(await totals(owner)).toEqual(truth.totalsOf(null))
    expect(await totals(stranger)).toEqual({ total_movies: 0, total_tv_shows: 0 })
  })

  it("lists a viewer's recently added from their shared sections only; the admin's list is unchanged", async () => {
    const ofAdmin = await get('/api/plex/media/recent', admin)
    const body = await json(ofAdmin)
    expect(Object.keys(valueOf(body))).toEqual(['media'])
    expect(ofAdmin.headers.get('etag')).toBe(etagOf(JSON.stringify(valueOf(body))))
    expect(body.media.some((item: Raw) => item.type === 'show')).toBe(true)
    const media = async (who: Someone) => {
      const mine = await json(await get('/api/plex/media/recent', who.headers))
      expect(Object.keys(valueOf(mine))).toEqual(['media'])
      return mine.media as Raw[]
    }
    expect(await media(everything)).toEqual(body.media)
    expect(await media(owner)).toEqual(body.media)
    expect(await media(stranger)).toEqual([])
    // Beyond the admin's 30: the newest of the movie sections, however many shows came in since.
    const movieSections = truth.sectionsOf(moviesOnly.account).map((s) => s.key)
    const movies = await media(moviesOnly)
    expect(movies.every((item) => item.type === 'movie')).toBe(true)
    expect(movies.map((item) => item.title)).toEqual(await newestMovies(t, movieSections))
  })

  it('keeps the sharing and the section totals out of the admin answers of /users/count and /stats/live', async () => {
    const count = await get('/api/plex/users/count', admin)
    const countBody = await json(count)
    expect(Object.keys(valueOf(countBody))).toEqual(['count'])
    expect(count.headers.get('etag')).toBe(etagOf(JSON.stringify(valueOf(countBody))))
    const live = await get('/api/plex/stats/live', admin)
    const liveBody = await json(live)
    expect(Object.keys(valueOf(liveBody)).sort()).toEqual([
      'server_name',
      'total_episodes',
      'total_movies',
      'total_seasons',
      'total_tv_shows',
      'total_users',
    ])
    expect(live.headers.get('etag')).toBe(etagOf(JSON.stringify(valueOf(liveBody))))
    // Without credentials: the same answers as the admin's.
    expect(valueOf(await json(await fetch(`${t.url}/api/plex/stats/live`)))).toEqual(valueOf(liveBody))
    expect(valueOf(await json(await fetch(`${t.url}/api/plex/media/recent`)))).toEqual(
      valueOf(await json(await get('/api/plex/media/recent', admin))),
    )
  })

  it("never answers a 304 for the ETag of a viewer shared other libraries, nor the admin's", async () => {
    for (const path of ['/api/plex/stats', '/api/plex/media/recent']) {
      const ofBob = (await get(path, moviesOnly.headers)).headers.get('etag')!
      expect((await get(path, { ...moviesOnly.headers, 'if-none-match': ofBob })).status, path).toBe(304)
      for (const other of [everything, owner, stranger])
        expect((await get(path, { ...other.headers, 'if-none-match': ofBob })).status, path).toBe(200)
      const ofAdmin = (await get(path, admin)).headers.get('etag')!
      expect((await get(path, { ...admin, 'if-none-match': ofAdmin })).status, path).toBe(304)
      expect((await get(path, { ...owner.headers, 'if-none-match': ofAdmin })).status, path).toBe(200)
    }
  })

  it('costs Plex and plex.tv what the admin alone costs, however many viewers read', async () => {
    await fetch(`${t.url}/api/plex/cache/clear`, { method: 'POST', headers: admin })
    t.sim.control.resetCounts()
    for (const who of [admin, everything.headers, moviesOnly.headers, owner.headers, stranger.headers]) {
      expect((await get('/api/plex/stats', who)).status).toBe(200)
      expect((await get('/api/plex/media/recent', who)).status).toBe(200)
    }
    const counts = t.sim.control.requestCounts()
    expect(counts['/api/servers/:id/shared_servers']).toBe(1)
    const afterOne = t.sim.control.totalRequests()
    for (let round = 0; round < 3; round++) {
      for (const who of [everything, moviesOnly, owner, stranger]) {
        await get('/api/plex/stats', who.headers)
        await get('/api/plex/media/recent', who.headers)
      }
    }
    expect(t.sim.control.totalRequests()).toBe(afterOne)
  })
})

describe('viewers while plex.tv cannot say what is shared', () => {
  let t: PlexApp

  beforeAll(async () => {
    t = await startService({ plex: true, env: AUTH_ENV, sim: { sharedUsers: 3 } })
    await t.sim.control.setFault({ endpoint: '/api/servers/:id/shared_servers', status: 503 })
  }, 30_000)
  afterAll(() => t?.close())

  it('answers a viewer nothing shared, never the unfiltered value, and the shared libraries once plex.tv is back', async () => {
    const account = t.sim.control.state().accounts.find((a) => a.id > 1)!.id
    const viewer = await makeViewer(t, 'ann', account)
    const ofAdmin = await json(await t.fetch('/api/plex/stats', { headers: admin }))
    expect(ofAdmin.total_movies).toBeGreaterThan(0)
    expect((await json(await t.fetch('/api/plex/media/recent', { headers: admin }))).media.length).toBeGreaterThan(0)
    expect((await t.fetch('/api/plex/users/count', { headers: admin })).status).toBeGreaterThanOrEqual(502)

    const stats = await json(await t.fetch('/api/plex/stats', { headers: viewer.headers }))
    expect({ total_movies: stats.total_movies, total_tv_shows: stats.total_tv_shows }).toEqual({
      total_movies: 0,
      total_tv_shows: 0,
    })
    expect((await json(await t.fetch('/api/plex/media/recent', { headers: viewer.headers }))).media).toEqual([])

    await t.sim.control.clearFaults()
    expect((await t.fetch('/api/plex/cache/clear', { method: 'POST', headers: admin })).status).toBe(200)
    const truth = new GroundTruth(t.sim)
    await truth.readLibraries()
    const again = await json(await t.fetch('/api/plex/stats', { headers: viewer.headers }))
    expect({ total_movies: again.total_movies, total_tv_shows: again.total_tv_shows }).toEqual(truth.totalsOf(account))
    expect(again.total_movies).toBeGreaterThan(0)
    expect(
      (await json(await t.fetch('/api/plex/media/recent', { headers: viewer.headers }))).media.length,
    ).toBeGreaterThan(0)
  })
})
