import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../sim/index.js'
import { type TestApp, startService } from '../support/api-harness.js'
import { eventually as until } from '../support/eventually.js'
import { cleanUp, instanceEnv, SHARED_REDIS_URL, uniquePrefix } from './helpers.js'

const TOKEN = 'warm-start-sim-token-8080'
/** The Plex calls of one warm-up of the caches a reader is about to ask for. */
const CACHE_ENDPOINTS = [
  '/status/sessions',
  '/activities',
  '/accounts',
  '/identity',
  '/library/sections/:id/recentlyAdded',
]

describe('warm start with Redis: only the leader warms, the others take the values from Redis', () => {
  let sim: RunningSimulator
  let dir: string
  let prefix: string
  const apps: TestApp[] = []

  beforeAll(async () => {
    sim = await startSimulator({
      port: 0,
      token: TOKEN,
      seed: 5,
      items: 150,
      speed: 0,
      liveSessions: false,
      latencyMs: 100,
    })
    sim.control.startSession({ kind: 'episode' })
    dir = mkdtempSync(join(tmpdir(), 'komandorr-warm-start-'))
    prefix = uniquePrefix('warm-start')
    const env = instanceEnv(
      { redisUrl: SHARED_REDIS_URL, keyPrefix: prefix, dir, plexUrl: sim.url, plexToken: TOKEN },
      { LOG_LEVEL: 'info' },
    )
    for (let i = 0; i < 3; i++) apps.push(await startService({ env }))
  }, 30_000)

  afterAll(async () => {
    for (const app of apps) await app.close()
    await sim?.close()
    await cleanUp(prefix)
    rmSync(dir, { recursive: true, force: true })
  })

  it('one instance of three calls Plex for the warm-up; every first read is a hit', async () => {
    const cacheCalls = () => CACHE_ENDPOINTS.map((endpoint) => sim.control.requestCounts()[endpoint] ?? 0)
    for (const app of apps) app.runtime.startJobs()
    await until(
      'one instance leads',
      () => apps.filter((app) => app.runtime.redis!.leader.isLeader).length === 1,
      10_000,
    )
    const leader = apps.find((app) => app.runtime.redis!.leader.isLeader)!
    await until(
      'the leader warmed the sessions',
      () => (leader.runtime.caches.get('plex_sessions')!.stats().entries ?? 0) > 0,
      10_000,
    )
    await leader.runtime.warmStart.settled
    const afterWarmUp = cacheCalls()
    // Users count asks /identity once; sessions and activities ask /status/sessions (and reload
    // once more when the notification stream connects: changes before it were not pushed).
    expect([afterWarmUp[1], afterWarmUp[3]], 'one load of each cache').toEqual([1, 1])
    const plexLoads = (app: TestApp) => {
      const names = [
        'plex_sessions',
        'plex_activities',
        'plex_stats_live',
        'plex_recent_media',
        'plex_libraries',
        'plex_users_count',
      ]
      return names.map((name) => app.runtime.caches.get(name)!.counters.loads)
    }
    expect(plexLoads(leader).every((loads) => loads >= 1)).toBe(true)
    for (const app of apps.filter((app) => app !== leader))
      expect(plexLoads(app), 'a follower does not warm').toEqual([0, 0, 0, 0, 0, 0])
    for (const app of apps) {
      const ready = await fetch(`${app.url}/api/health/ready`)
      expect({
        leader: app === leader,
        status: ready.status,
        firstWarmUp: app.runtime.warmStart.firstWarmUp?.settled,
      }).toEqual({
        leader: app === leader,
        status: 200,
        firstWarmUp: app === leader ? true : undefined,
      })
    }

    for (const app of apps) {
      for (const path of ['/api/plex/sessions', '/api/plex/activities', '/api/plex/stats/live']) {
        const response = await fetch(app.url + path)
        expect({ path, status: response.status, cache: response.headers.get('x-cache') }).toEqual({
          path,
          status: 200,
          cache: 'HIT',
        })
      }
    }
    expect(cacheCalls(), 'the followers took the values from Redis').toEqual(afterWarmUp)
    for (const app of apps.filter((app) => app !== leader)) expect(plexLoads(app)).toEqual([0, 0, 0, 0, 0, 0])
  })
})
