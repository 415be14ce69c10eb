import { ManualClock } from '../../src/cache/index.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ClockedPlexApp, json, jsonInit, startService } from '../support/api-harness.js'

const WATCH_HISTORY = '/api/plex/watch-history'
const WATCH_HISTORY_PAGE = '/api/plex/watch-history?limit=5&offset=2'
const STATS = '/api/plex/stats'
const DASHBOARD = '/api/plex/stats/dashboard'
const ALL = [WATCH_HISTORY, WATCH_HISTORY_PAGE, STATS, DASHBOARD]

describe('invalidation triggers (SPEC §1)', () => {
  let t: ClockedPlexApp
  const xCache = async (path: string) => (await fetch(`${t.url}${path}`)).headers.get('x-cache')
  const post = (path: string, body?: unknown) =>
    fetch(`${t.url}${path}`, body === undefined ? { method: 'POST' } : jsonInit('POST', body))

  /** Reads each path until it is a hit. */
  async function warm(paths: readonly string[]): Promise<void> {
    for (const path of paths) {
      await xCache(path)
      expect(await xCache(path), path).toBe('HIT')
    }
  }

  async function expectMisses(paths: readonly string[]): Promise<void> {
    for (const path of paths) expect(await xCache(path), path).toBe('MISS')
  }

  async function expectHits(paths: readonly string[]): Promise<void> {
    for (const path of paths) expect(await xCache(path), path).toBe('HIT')
  }

  beforeAll(async () => {
    // CACHE_WARM_IDLE=1: no refresh-ahead, so a MISS can only come from a trigger.
    t = await startService({
      plex: true,
      clock: new ManualClock(),
      env: { CACHE_WARM_IDLE: '1' },
      sim: { historyRows: 200 },
    })
    expect((await post('/api/plex/watch-history/sync')).status).toBe(200)
  })
  afterAll(() => t.close())

  it('a sync that stored rows busts watch_history (every query) and background_stats, and shows the new row', async () => {
    await warm(ALL)
    t.sim.control.advance(60)
    const session = t.sim.control.startSession({ kind: 'movie', accountId: 1 })
    t.sim.control.stopSession(session.sessionKey)
    expect(await json(await post('/api/plex/watch-history/sync'))).toMatchObject({ added: 1 })
    await expectMisses([WATCH_HISTORY, WATCH_HISTORY_PAGE, DASHBOARD])
    await expectHits([STATS])
    const [newest] = await json(await fetch(`${t.url}${WATCH_HISTORY}?limit=1`))
    expect(newest.title).toBe(session.title)
  })

  it('a sync that stored nothing busts nothing', async () => {
    await warm(ALL)
    expect(await json(await post('/api/plex/watch-history/sync'))).toMatchObject({ added: 0 })
    await expectHits(ALL)
  })

  it('raising the peak busts plex_stats and background_stats; a lower peak changes nothing and busts nothing', async () => {
    await warm(ALL)
    expect((await post('/api/plex/stats/peak', { peak_concurrent: 4 })).status).toBe(200)
    await expectMisses([STATS, DASHBOARD])
    await expectHits([WATCH_HISTORY])
    expect((await json(await fetch(`${t.url}${DASHBOARD}`))).plex.peak_concurrent).toBe(4)

    await warm(ALL)
    expect((await post('/api/plex/stats/peak', { peak_concurrent: 2 })).status).toBe(200)
    await expectHits(ALL)
  })

  it('resetting the peak busts plex_stats and background_stats', async () => {
    await warm(ALL)
    expect((await post('/api/plex/stats/reset')).status).toBe(200)
    await expectMisses([STATS, DASHBOARD])
    expect((await json(await fetch(`${t.url}${STATS}`))).peak_concurrent).toBe(0)
    await expectHits([WATCH_HISTORY])
  })

  it('a Plex config change busts watch_history (its thumbs name the server), plex_stats and background_stats', async () => {
    await warm(ALL)
    t.runtime.plex.update(t.runtime.plex.settings)
    await expectMisses(ALL)
  })

  it('cache/clear busts everything', async () => {
    await warm(ALL)
    expect((await post('/api/plex/cache/clear')).status).toBe(200)
    await expectMisses(ALL)
  })
})
