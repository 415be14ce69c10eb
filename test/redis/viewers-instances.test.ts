import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../sim/index.js'
import { basic, type TestApp, startService } from '../support/api-harness.js'
import {
  adminCaller,
  AUTH_ENV,
  createViewers,
  GroundTruth,
  IsolationChecker,
  prng,
  type Caller,
} from '../support/viewer-isolation.js'
import { eventually } from '../support/eventually.js'
import { cleanUp, instanceEnv, SHARED_REDIS_URL, uniquePrefix } from './helpers.js'

const VIEWERS = 20
const REQUESTS = 1_500
const TOKEN = 'sim-secret-token-4242'

/** Three instances (in-process runtimes) on one Redis and one SQLite file, the simulator as Plex. */
describe('viewers on three instances sharing Redis', () => {
  let sim: RunningSimulator
  let dir: string
  let prefix: string
  let instances: TestApp[]
  let viewers: Caller[]
  let truth: GroundTruth
  const admin = adminCaller.headers

  beforeAll(async () => {
    sim = await startSimulator({
      port: 0,
      token: TOKEN,
      seed: 5,
      items: 200,
      historyRows: 2000,
      sharedUsers: VIEWERS,
      speed: 0,
      liveSessions: false,
    })
    dir = mkdtempSync(join(tmpdir(), 'komandorr-viewers-'))
    prefix = uniquePrefix('viewers')
    const env = instanceEnv(
      { redisUrl: SHARED_REDIS_URL, keyPrefix: prefix, dir, plexUrl: sim.url, plexToken: TOKEN },
      { ...AUTH_ENV, CACHE_SESSIONS_TTL: '2', CACHE_ACTIVITIES_TTL: '2' },
    )
    instances = []
    for (let i = 0; i < 3; i++) instances.push(await startService({ env }))
    await eventually(
      'every instance is subscribed',
      () => instances.every((app) => app.runtime.redis!.bus.subscribed),
      10_000,
    )
    viewers = await createViewers(instances[0]!.url, sim, VIEWERS)
    truth = new GroundTruth(sim)
    for (const viewer of viewers) truth.startSession(viewer.account!)
    truth.startSession(1)
    sim.control.startActivity()
    expect(
      (await fetch(`${instances[1]!.url}/api/plex/watch-history/sync`, { method: 'POST', headers: admin })).status,
    ).toBe(200)
    await truth.readHistory(sim.control.state().accounts.map((a) => a.id))
    await truth.readLibraries()
  }, 40_000)

  afterAll(async () => {
    await Promise.all((instances ?? []).map((app) => app.close()))
    await sim?.close()
    if (prefix) await cleanUp(prefix)
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('answers every principal only with its own data on whichever instance it reaches', async () => {
    const random = prng(1414)
    const checker = new IsolationChecker(truth, [adminCaller, ...viewers], random)
    const pick = () => instances[Math.floor(random() * instances.length)]!.url
    let sent = 0
    while (sent < REQUESTS) {
      const batch = Array.from({ length: 30 }, () => checker.randomRequest())
      await Promise.all(batch.map((request) => checker.send(pick(), request)))
      sent += batch.length
      const event = random()
      const viewer = viewers[Math.floor(random() * viewers.length)]!
      if (event < 0.15) truth.startSession(viewer.account!)
      else if (event < 0.3)
        await fetch(`${pick()}/api/plex/cache/clear?viewer=${viewer.name}`, { method: 'POST', headers: admin })
      else if (event < 0.35) await fetch(`${pick()}/api/plex/cache/clear`, { method: 'POST', headers: admin })
      else if (event < 0.45) await fetch(`${pick()}/api/plex/watch-history/sync`, { method: 'POST', headers: admin })
    }
    expect(checker.violations).toEqual([])
    expect(checker.responses).toBe(REQUESTS)
    expect(checker.forbidden).toBeGreaterThan(0)
  }, 120_000)

  it("a viewer's clear on one instance drops that viewer's entries on every instance, and only theirs", async () => {
    const [a, b] = viewers
    const history = (app: TestApp, who: Caller) =>
      fetch(`${app.url}/api/plex/watch-history?limit=7`, { headers: who.headers })
    for (const app of instances) {
      await history(app, a!)
      await history(app, b!)
    }
    expect((await history(instances[2]!, a!)).headers.get('x-cache')).toBe('HIT')
    const cleared = await fetch(`${instances[0]!.url}/api/plex/cache/clear?viewer=${a!.name}`, {
      method: 'POST',
      headers: admin,
    })
    expect(cleared.status).toBe(200)
    await eventually(
      'instance 3 dropped the viewer’s page',
      () => history(instances[2]!, a!).then((r) => r.headers.get('x-cache') === 'MISS'),
      5_000,
    )
    expect((await history(instances[1]!, b!)).headers.get('x-cache')).toBe('HIT')
  })

  it('a viewer deleted on one instance is refused by another as soon as the bus delivers it', async () => {
    const victim = viewers[VIEWERS - 1]!
    expect((await fetch(`${instances[2]!.url}/api/plex/sessions`, { headers: victim.headers })).status).toBe(200)
    expect(
      (
        await fetch(`${instances[0]!.url}/api/viewers/${victim.name}`, {
          method: 'DELETE',
          headers: basic('admin', 'admin password 123'),
        })
      ).status,
    ).toBe(204)
    // The delete clears the viewer's scope on every instance, and with it their remembered logins
    // (test/viewers/accounts.test.ts pins the bus and the recheck apart).
    await eventually(
      'instance 3 refuses the deleted viewer',
      () => fetch(`${instances[2]!.url}/api/plex/sessions`, { headers: victim.headers }).then((r) => r.status === 401),
      5_000,
    )
  })
})
