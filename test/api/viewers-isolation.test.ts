import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { basic, type PlexApp, startService } from '../support/api-harness.js'
import {
  adminCaller,
  ADMIN,
  AUTH_ENV,
  createViewers,
  GroundTruth,
  IsolationChecker,
  prng,
  type Caller,
} from '../support/viewer-isolation.js'

const VIEWERS = 20
const REQUESTS = Number(process.env.ISOLATION_REQUESTS ?? 10_000)
const CONCURRENCY = 40

describe('20 viewers and the admin, 10,000 randomized requests', () => {
  let t: PlexApp
  let viewers: Caller[]
  let truth: GroundTruth

  beforeAll(async () => {
    t = await startService({
      plex: true,
      env: { ...AUTH_ENV, CACHE_SESSIONS_TTL: '1', CACHE_ACTIVITIES_TTL: '1' },
      sim: { sharedUsers: VIEWERS, historyRows: 3000 },
    })
    viewers = await createViewers(t.url, t.sim, VIEWERS)
    truth = new GroundTruth(t.sim)
    for (const viewer of viewers) {
      truth.startSession(viewer.account!)
      truth.startSession(viewer.account!, true)
    }
    truth.startSession(1)
    t.sim.control.startActivity()
    const sync = await fetch(`${t.url}/api/plex/watch-history/sync`, { method: 'POST', headers: adminCaller.headers })
    expect(sync.status).toBe(200)
    await truth.readHistory(t.sim.control.state().accounts.map((a) => a.id))
    await truth.readLibraries()
    // Some viewers are shared fewer libraries than the admin sees: the filtering is exercised.
    expect(viewers.some((v) => truth.sectionsOf(v.account).length < truth.sectionsOf(null).length)).toBe(true)
  }, 30_000)
  afterAll(() => t?.close())

  it('never answers anyone with another user’s session, history row or ETag', async () => {
    const random = prng(14)
    const callers = [adminCaller, ...viewers]
    const checker = new IsolationChecker(truth, callers, random)
    const admin = basic(ADMIN.user, ADMIN.password)
    let sent = 0
    while (sent < REQUESTS) {
      const batch = Array.from({ length: Math.min(CONCURRENCY, REQUESTS - sent) }, () => checker.randomRequest())
      await Promise.all(batch.map((request) => checker.send(t.url, request)))
      sent += batch.length
      if (process.env.ISOLATION_TRACE && sent % 400 === 0) console.log(sent, Math.round(performance.now()))
      // Between batches, things change: push events, clears, syncs.
      const event = random()
      const viewer = viewers[Math.floor(random() * viewers.length)]!
      if (event < 0.1) truth.startSession(viewer.account!)
      else if (event < 0.2) {
        const keys = [...truth.sessionOwner.keys()]
        const key = keys[Math.floor(random() * keys.length)]!
        if (!t.sim.control.pauseSession(key)) t.sim.control.resumeSession(key)
      } else if (event < 0.25) await fetch(`${t.url}/api/plex/cache/clear`, { method: 'POST', headers: admin })
      else if (event < 0.35)
        await fetch(`${t.url}/api/plex/cache/clear?viewer=${viewer.name}`, { method: 'POST', headers: admin })
      else if (event < 0.4) await fetch(`${t.url}/api/plex/watch-history/sync`, { method: 'POST', headers: admin })
      else if (event < 0.42) t.sim.control.startActivity()
    }
    expect(checker.violations).toEqual([])
    expect(checker.responses).toBe(REQUESTS)
    // The workload did what it says: 304s for own ETags, 403s for other users' history.
    expect(checker.notModified).toBeGreaterThan(REQUESTS / 100)
    expect(checker.forbidden).toBeGreaterThan(REQUESTS / 100)

    // Quiet now: each viewer's newest history page is exactly theirs, in order.
    for (const viewer of viewers) {
      const rows = (await (
        await fetch(`${t.url}/api/plex/watch-history?limit=25`, { headers: viewer.headers })
      ).json()) as Array<{ viewed_at: string; title: string }>
      expect(
        rows.map((row) => `${Math.floor(Date.parse(row.viewed_at) / 1000)}|${row.title}`),
        viewer.name,
      ).toEqual(truth.newest(viewer.account!, 25))
    }
    const report = (await (await fetch(`${t.url}/api/plex/cache/stats`, { headers: admin })).json()) as {
      scopes: { count: number; per_scope: Array<{ scope: string }> }
    }
    expect(report.scopes.count).toBeGreaterThan(0)
    expect(JSON.stringify(report)).not.toMatch(/viewer\d/)
    // ~10 s on a quiet 2-core machine; the margin is for a machine shared with other work.
  }, 240_000)
})
