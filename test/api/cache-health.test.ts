import { ManualClock } from '../../src/cache/index.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, type ClockedPlexApp, startService } from '../support/api-harness.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Entry = Record<string, any>

describe('cache health in cache/stats', () => {
  let t: ClockedPlexApp
  const get = (path: string) => fetch(`${t.url}${path}`)
  const health = async (name: string): Promise<Entry> => {
    const body = await json(await get('/api/plex/cache/stats'))
    const entry = (body.caches as Entry[]).find((c) => c.name === name)!
    return { health: entry.health, reason: entry.health_reason }
  }

  beforeAll(async () => {
    t = await startService({ plex: true, clock: new ManualClock(), env: { CACHE_WARM_IDLE: '1' } })
  })
  afterAll(() => t.close())

  it('judges the reads of the last five minutes, not those since start', async () => {
    expect((await health('plex_users_count')).health).toBe('idle')
    for (let i = 0; i < 30; i++) expect((await get('/api/plex/users/count')).status).toBe(200)
    // One load, then hits: 29 of 30.
    expect(await health('plex_users_count')).toEqual({
      health: 'good',
      reason: 'hit rate 96.7 % over the last 1 min, above 70.0 %',
    })
    // Six minutes of nobody reading: the window holds no read any more, the counters since start do.
    await t.clock.advance(6 * 60_000)
    expect(await health('plex_users_count')).toEqual({
      health: 'idle',
      reason: '0 reads over the last 5 min: fewer than 20 to judge',
    })
  })

  it('is poor while Plex fails the loads, and names them', async () => {
    expect((await fetch(`${t.url}/api/plex/cache/clear`, { method: 'POST' })).status).toBe(200)
    await t.sim.control.setFault({ endpoint: '/status/sessions', status: 500 })
    try {
      for (let i = 0; i < 3; i++) expect((await get('/api/plex/sessions')).status).toBeGreaterThanOrEqual(500)
      const verdict = await health('plex_sessions')
      expect(verdict.health).toBe('poor')
      expect(verdict.reason).toMatch(/^\d+ failed loads? over the last 5 min/)
    } finally {
      await t.sim.control.clearFaults()
    }
  })
})
