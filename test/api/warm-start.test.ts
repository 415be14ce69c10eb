import { afterEach, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../sim/index.js'
import { type PlexApp, startService } from '../support/api-harness.js'
import { json, jsonInit } from '../support/api-harness.js'
import { sleep } from '../support/eventually.js'

const CACHED_PATHS = [
  '/api/plex/activities',
  '/api/plex/sessions',
  '/api/plex/stats/live',
  '/api/plex/media/recent',
  '/api/plex/users/count',
  '/api/invites/plex/config',
]
const SECOND_TOKEN = 'second-sim-token-5150'

let setup: PlexApp | undefined
let sim2: RunningSimulator | undefined
afterEach(async () => {
  await setup?.close()
  await sim2?.close()
  setup = sim2 = undefined
})

describe('warm start: the Plex caches load once when the jobs start, before any reader', () => {
  it('the first reads after start are hits, and none of them calls Plex', async () => {
    setup = await startService({ plex: true, sim: { latencyMs: 300 } })
    setup.sim.control.startSession({ kind: 'movie' })
    const { runtime } = setup
    expect(setup.sim.control.totalRequests(), 'nothing loads before the jobs start').toBe(0)

    expect(runtime.jobs, 'a background job, started with the others once the server listens').toContain(
      runtime.warmStart,
    )
    runtime.warmStart.start() // alone: the other jobs (history sync, push) call Plex too
    await runtime.warmStart.settled
    const warmUp = setup.sim.control.requestCounts()
    expect(warmUp).toMatchObject({ '/status/sessions': 2, '/activities': 1, '/identity': 1 })
    // Counted as warm loads (`cache_refreshes_total{reason="warm"}`), not refresh-ahead.
    const sessionsCounters = runtime.caches.get('plex_sessions')!.counters
    expect({ refreshes: sessionsCounters.refreshes, warm: sessionsCounters.warmRefreshes }).toEqual({
      refreshes: 1,
      warm: 1,
    })

    for (const path of CACHED_PATHS) {
      const response = await setup.fetch(path)
      expect({ path, status: response.status, cache: response.headers.get('x-cache') }).toEqual({
        path,
        status: 200,
        cache: 'HIT',
      })
    }
    expect(setup.sim.control.requestCounts(), 'no reader called Plex').toEqual(warmUp)
    const sessions = await json(await setup.fetch('/api/plex/sessions'))
    expect(sessions.total).toBe(1)
  })

  it('after a Plex server change the caches load from the new server without a reader', async () => {
    setup = await startService({ plex: true })
    sim2 = await startSimulator({
      port: 0,
      token: SECOND_TOKEN,
      seed: 7,
      items: 200,
      speed: 0,
      liveSessions: false,
      serverName: 'Second Sim',
    })
    const session = sim2.control.startSession({ kind: 'episode' })
    const { runtime } = setup
    runtime.warmStart.start()
    await runtime.warmStart.settled

    const saved = await setup.fetch('/api/plex/validate', jsonInit('POST', { url: sim2.url, token: SECOND_TOKEN }))
    expect(saved.status).toBe(200)
    await sleep(20)
    await runtime.warmStart.settled
    expect(sim2.control.requestCounts()).toMatchObject({ '/status/sessions': 2, '/activities': 1 })

    sim2.control.resetCounts()
    const response = await setup.fetch('/api/plex/sessions')
    expect(response.headers.get('x-cache')).toBe('HIT')
    expect((await json(response)).sessions.map((s: { session_id: string }) => s.session_id)).toEqual([
      session.sessionKey,
    ])
    expect((await setup.fetch('/api/plex/stats/live')).headers.get('x-cache')).toBe('HIT')
    expect(sim2.control.totalRequests()).toBe(0)
  })
})
