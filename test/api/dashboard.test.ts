import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { BYTES_PER_GB, HOUR_MS } from '../../src/features/traffic/traffic-log.js'
import { type ClockedPlexApp, json, jsonInit, startService } from '../support/api-harness.js'
import { ManualClock } from '../../src/cache/index.js'
import { sleep } from '../support/eventually.js'

const dashboardUrl = (t: ClockedPlexApp) => `${t.url}/api/plex/stats/dashboard`

/** Waits until the simulator has seen no new request for a while: nothing of ours is in flight. */
async function quietRequestCount(t: ClockedPlexApp): Promise<number> {
  let last = -1
  for (;;) {
    const now = t.sim.control.totalRequests()
    if (now === last) return now
    last = now
    await sleep(150)
  }
}

function simTotals(t: ClockedPlexApp) {
  const state = t.sim.control.state()
  const sum = (type: string, typeId: string) =>
    state.library.sections.filter((s) => s.type === type).reduce((n, s) => n + (s.counts[typeId] ?? 0), 0)
  return {
    total_users: state.accounts.filter((a) => a.id > 0).length,
    total_movies: sum('movie', '1'),
    total_tv_shows: sum('show', '2'),
    total_seasons: sum('show', '3'),
    total_episodes: sum('show', '4'),
  }
}

describe('GET /api/plex/stats/dashboard', () => {
  let t: ClockedPlexApp
  const wall = new ManualClock({ wallNow: Date.UTC(2026, 3, 10, 12, 0, 0) })
  const services = [
    ['web', 'online'],
    ['sonarr', 'online'],
    ['nas', 'offline'],
    ['vpn', 'problem'],
  ] as const

  beforeAll(async () => {
    t = await startService({ plex: true, clock: wall })
    for (const [id, status] of services) {
      await t.runtime.repos.services.insert(
        id,
        { name: id, url: `http://127.0.0.1:9/${id}`, type: 'app', description: null, icon: null, group: null },
        wall.wallNow(),
      )
      await t.runtime.repos.services.recordCheck(id, `http://127.0.0.1:9/${id}`, {
        status,
        checkedAt: wall.wallNow(),
        responseTimeMs: 5,
      })
    }
    await t.runtime.repos.plexStats.raisePeak(3, wall.wallNow())
    // Cumulative GB counters of one agent: only steps between samples inside a window count.
    const start = wall.wallNow()
    for (const [hoursAgo, up, down] of [
      [40, 1, 5],
      [20, 3, 12],
      [5, 4, 20],
    ] as const) {
      wall.setWallNow(start - hoursAgo * HOUR_MS)
      const response = await fetch(
        `${t.url}/api/traffic/update`,
        jsonInit('POST', { service_id: 'web', bandwidth_up: 1, bandwidth_down: 1, total_up: up, total_down: down }),
      )
      expect(response.status).toBe(200)
    }
    wall.setWallNow(start)
  })
  afterAll(() => t.close())

  it('shows services by status, the peak, Plex totals and traffic totals, in the shape of the contract', async () => {
    const first = await fetch(dashboardUrl(t))
    expect(first.status).toBe(200)
    // Plex totals arrive in the background: the first answer does not wait for them.
    await vi.waitFor(async () =>
      expect((await json(await fetch(dashboardUrl(t)))).plex.total_movies).toBeGreaterThan(0),
    )
    const response = await fetch(dashboardUrl(t))
    expect(response.headers.get('x-cache')).toBe('HIT')
    expect(await json(response)).toEqual({
      cached: true,
      cache_age: expect.any(Number),
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      services: { total: 4, online: 2, offline: 1, problem: 1 },
      plex: { configured: true, peak_concurrent: 3, ...simTotals(t) },
      traffic: {
        last_24h_upload_bytes: 1 * BYTES_PER_GB,
        last_24h_download_bytes: 8 * BYTES_PER_GB,
        last_24h_total_bytes: 9 * BYTES_PER_GB,
        last_30d_upload_bytes: 3 * BYTES_PER_GB,
        last_30d_download_bytes: 15 * BYTES_PER_GB,
        last_30d_total_bytes: 18 * BYTES_PER_GB,
      },
    })
  })

  it('is recomputed every STATS_REFRESH_INTERVAL by its job, and served from memory in between', async () => {
    const job = t.runtime.dashboard
    const interval = t.runtime.config.cache.ttlMs.background_stats!
    job.start()
    try {
      await t.clock.advance(0)
      await t.runtime.repos.services.recordCheck('nas', 'http://127.0.0.1:9/nas', {
        status: 'online',
        checkedAt: wall.wallNow(),
        responseTimeMs: 5,
      })
      const before = await fetch(dashboardUrl(t))
      expect(before.headers.get('x-cache')).toBe('HIT')
      expect((await json(before)).services).toEqual({ total: 4, online: 2, offline: 1, problem: 1 })
      await t.clock.advance(interval)
      const after = await fetch(dashboardUrl(t))
      expect(after.headers.get('x-cache')).toBe('HIT')
      expect((await json(after)).services).toEqual({ total: 4, online: 3, offline: 0, problem: 1 })
    } finally {
      await job.stop()
    }
  })
})

describe('dashboard stats and the Plex server', () => {
  let t: ClockedPlexApp

  beforeAll(async () => {
    t = await startService({ plex: true, clock: new ManualClock() })
  })
  afterAll(() => t.close())

  it('an unread dashboard costs Plex nothing; a read one refreshes the totals; once unread again Plex goes quiet', async () => {
    const job = t.runtime.dashboard
    const interval = t.runtime.config.cache.ttlMs.background_stats!
    job.start()
    try {
      for (let i = 0; i < 4; i++) await t.clock.advance(interval)
      expect(await quietRequestCount(t)).toBe(0)

      await fetch(dashboardUrl(t))
      await vi.waitFor(async () =>
        expect((await json(await fetch(dashboardUrl(t)))).plex.total_users).toBeGreaterThan(0),
      )
      const afterFirstRead = await quietRequestCount(t)
      expect(t.counts()['/accounts']).toBe(1)

      // Still in demand at the next tick: the totals are read again through their cache.
      await t.clock.advance(interval)
      await vi.waitFor(() => expect(t.sim.control.totalRequests()).toBeGreaterThan(afterFirstRead))

      // Nobody reads any more: after the idle window nothing asks Plex.
      await t.clock.advance(interval)
      await t.clock.advance(interval)
      const quiet = await quietRequestCount(t)
      for (let i = 0; i < 5; i++) await t.clock.advance(interval)
      expect(await quietRequestCount(t)).toBe(quiet)
    } finally {
      await job.stop()
    }
  })
})

describe('dashboard stats while Plex hangs', () => {
  let t: ClockedPlexApp

  beforeAll(async () => {
    t = await startService({ plex: true, clock: new ManualClock() })
  })
  afterAll(async () => {
    await t.sim.control.clearFaults()
    // Abandons the loads still waiting on the hung server (their timeout runs on the cache clock).
    await t.clock.advance(60_000)
    await t.close()
  })

  it('answers at once, with no snapshot held and its Plex totals read hanging', async () => {
    await t.sim.control.setFault({ mode: 'hang' })
    await t.runtime.caches.clearAll()
    for (let i = 0; i < 3; i++) {
      const response = await fetch(dashboardUrl(t), { signal: AbortSignal.timeout(3_000) })
      expect(response.status).toBe(200)
      expect((await json(response)).plex).toMatchObject({ configured: true, total_users: 0 })
    }
    // The totals read did go to Plex, and is still waiting there.
    await vi.waitFor(() => expect(t.counts()['/accounts']).toBe(1))
    const response = await fetch(dashboardUrl(t), { signal: AbortSignal.timeout(3_000) })
    expect(response.headers.get('x-cache')).toBe('HIT')
  })
})

describe('dashboard stats without a Plex server', () => {
  let t: ClockedPlexApp

  beforeAll(async () => {
    t = await startService({ plex: true, clock: new ManualClock(), configured: false })
  })
  afterAll(() => t.close())

  it('shows Plex as not configured, with zeros, and asks nothing of anyone', async () => {
    const body = await json(await fetch(dashboardUrl(t)))
    expect(body.plex).toEqual({
      configured: false,
      peak_concurrent: 0,
      total_users: 0,
      total_movies: 0,
      total_tv_shows: 0,
      total_seasons: 0,
      total_episodes: 0,
    })
    await sleep(100)
    expect(t.sim.control.totalRequests()).toBe(0)
  })
})
