import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../sim/index.js'
import { startService } from '../support/api-harness.js'
import type { ServiceProcess } from '../support/service-process.js'
import { eventually, sleep } from '../support/eventually.js'
import { PrivateRedis } from './helpers.js'

const LEASE_S = 2
const TOKEN = 'sim-secret-token-4242'

describe('three service processes on one Redis and one SQLite file', () => {
  let redis: PrivateRedis
  let sim: RunningSimulator
  let dir: string
  let services: ServiceProcess[] = []

  beforeAll(async () => {
    redis = await PrivateRedis.start()
    sim = await startSimulator({
      port: 0,
      token: TOKEN,
      seed: 1,
      items: 300,
      speed: 0,
      liveSessions: false,
      latencyMs: 500,
    })
    dir = mkdtempSync(join(tmpdir(), 'komandorr-instances-'))
    for (let i = 0; i < 3; i++) sim.control.startSession({ kind: 'episode' })
    const env = {
      REDIS_URL: redis.url,
      REDIS_LEADER_LEASE: String(LEASE_S),
      DATABASE_PATH: join(dir, 'komandorr.db'),
      PLEX_SERVER_URL: sim.url,
      PLEX_SERVER_TOKEN: TOKEN,
      PLEX_TV_URL: sim.url,
      CACHE_SESSIONS_TTL: '120',
    }
    // The first creates the database; the other two open it once it exists.
    services = [await startService({ process: 'child', env })]
    services.push(
      ...(await Promise.all([startService({ process: 'child', env }), startService({ process: 'child', env })])),
    )
    await eventually(
      'one instance leads',
      async () => (await Promise.all(services.map((s) => s.health()))).filter((h) => h?.redis.leader).length === 1,
      10_000,
    )
    // Let the leader's start-up jobs (history sync, dashboard stats) finish their Plex calls.
    await sleep(2_000)
  }, 60_000)

  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop()))
    await sim?.close()
    await redis?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('1000 concurrent cold requests spread over three instances make one Plex call per key', async () => {
    // The leader's warm start loaded the sessions at start: cold again, on every instance.
    expect((await fetch(`${services[0]!.url}/api/plex/cache/clear`, { method: 'POST' })).status).toBe(200)
    await sleep(100)
    sim.control.resetCounts()
    const responses = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const response = await fetch(`${services[i % 3]!.url}/api/plex/sessions`)
        return {
          status: response.status,
          cache: response.headers.get('x-cache'),
          body: (await response.json()) as { sessions: unknown[] },
        }
      }),
    )
    expect(responses.every((r) => r.status === 200 && r.body.sessions.length === 3)).toBe(true)
    const counts = sim.control.requestCounts()
    expect(counts['/status/sessions'], JSON.stringify(counts)).toBe(1)
  })

  it('a clear on one instance makes the others miss within 100 ms', async () => {
    for (const service of services) {
      const warm = await fetch(`${service.url}/api/plex/sessions`)
      expect(warm.headers.get('x-cache')).toBe('HIT')
    }
    const cleared = await fetch(`${services[0]!.url}/api/plex/cache/clear`, { method: 'POST' })
    expect(cleared.status).toBe(200)
    await sleep(100)
    const after = await Promise.all(services.slice(1).map((service) => fetch(`${service.url}/api/plex/sessions`)))
    expect(after.map((response) => response.headers.get('x-cache'))).not.toContain('HIT')
  })

  it('when the leader dies, another instance runs the background jobs within one lease', async () => {
    const health = await Promise.all(services.map((s) => s.health()))
    const leader = services[health.findIndex((h) => h?.redis.leader)]!
    const others = services.filter((s) => s !== leader)
    expect(await Promise.all(others.map((s) => s.backgroundStatsUpdatedAt())), 'followers run no jobs').toEqual([
      null,
      null,
    ])

    await leader.kill()
    const tookMs = await eventually(
      'another instance leads',
      async () => (await Promise.all(others.map((s) => s.health()))).some((h) => h?.redis.leader),
      5 * LEASE_S * 1000,
    )
    expect(tookMs, 'design bound: one lease; the rest is slack for two busy cores').toBeLessThan(LEASE_S * 1000 + 750)
    await eventually(
      'the new leader computed the dashboard stats',
      async () => (await Promise.all(others.map((s) => s.backgroundStatsUpdatedAt()))).some((t) => t !== null),
      5_000,
    )
    services = others
  })
})
