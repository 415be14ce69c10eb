import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/cache/index.js'
import { CACHES } from '../../src/features/caches/index.js'
import type { WarmUpProgress } from '../../src/features/plex/warm-start.js'
import { DatabaseReadiness, WarmUpReadiness } from '../../src/readiness.js'
import { startSimulator, type RunningSimulator } from '../../sim/index.js'
import {
  answering,
  json,
  jsonInit,
  sqliteOf,
  type PlexApp,
  type Target,
  type TestApp,
  startService,
} from '../support/api-harness.js'
import { eventually, sleep } from '../support/eventually.js'

describe('GET /api/health/live and /api/health/ready', () => {
  let t: TestApp | undefined
  let plex: Target | undefined

  afterEach(async () => {
    await t?.close()
    await plex?.close()
    t = plex = undefined
  })

  it('answer 200 without credentials when auth is on, and never call Plex', async () => {
    plex = await answering(200)
    t = await startService({
      env: {
        ENABLE_AUTH: 'true',
        AUTH_USERNAME: 'admin',
        AUTH_PASSWORD: 'pw',
        PLEX_SERVER_URL: plex.url,
        PLEX_SERVER_TOKEN: 'tok',
      },
    })

    const live = await fetch(`${t.url}/api/health/live`)
    expect(live.status).toBe(200)
    expect(await json(live)).toEqual({ status: 'alive' })
    const ready = await fetch(`${t.url}/api/health/ready`)
    expect(ready.status).toBe(200)
    expect(await json(ready)).toEqual({ status: 'ready' })
    // A wrong password is not checked on probes (unlike /api/health, which Komandorr's login uses).
    expect((await fetch(`${t.url}/api/health/ready`, { headers: { authorization: 'Basic eDp5' } })).status).toBe(200)
    expect(plex.requests).toBe(0)
  })

  it('ready is 503 with the reason while the database layer says it is unavailable, 200 once migrated', async () => {
    t = await startService()
    t.runtime.health.database.unavailable('PostgreSQL at db:5432 refused the connection; retrying')

    const notReady = await fetch(`${t.url}/api/health/ready`)
    expect(notReady.status).toBe(503)
    expect(await json(notReady)).toEqual({
      status: 'not_ready',
      detail: 'Not ready: PostgreSQL at db:5432 refused the connection; retrying',
    })
    expect((await fetch(`${t.url}/api/health/live`)).status).toBe(200)

    t.runtime.health.database.migrated()
    expect((await fetch(`${t.url}/api/health/ready`)).status).toBe(200)
  })

  it('ready turns 503 as soon as the database stops answering; live and /api/health stay 200', async () => {
    t = await startService()
    sqliteOf(t).close()

    const ready = await fetch(`${t.url}/api/health/ready`)
    expect(ready.status).toBe(503)
    expect((await json(ready)).detail).toMatch(/^Not ready: the database does not answer: .*not open/)
    expect((await fetch(`${t.url}/api/health/live`)).status).toBe(200)
    const health = await fetch(`${t.url}/api/health`)
    expect(health.status).toBe(200)
    expect(await json(health)).toMatchObject({ status: 'degraded', database: 'unavailable' })
  })
})

describe('DatabaseReadiness', () => {
  it('is not ready before the migrations ran, even when the database answers', async () => {
    let pings = 0
    const readiness = new DatabaseReadiness(() => pings++)
    expect(await readiness.check()).toEqual({
      ready: false,
      detail: 'the database is not open yet: migrations have not run',
    })
    expect(pings).toBe(0)
    readiness.migrated()
    expect(await readiness.check()).toEqual({ ready: true })
    expect(pings).toBe(1)
  })

  it('awaits an asynchronous ping and reports its failure', async () => {
    const readiness = new DatabaseReadiness(() => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.5:5432')))
    readiness.migrated()
    expect(await readiness.check()).toEqual({
      ready: false,
      detail: 'the database does not answer: connect ECONNREFUSED 10.0.0.5:5432',
    })
  })
})

describe('DatabaseReadiness with a ping deadline', () => {
  it('answers not ready when the ping hangs past the deadline, and ready again once pings answer', async () => {
    const clock = new ManualClock()
    let hang = true
    const readiness = new DatabaseReadiness(() => (hang ? new Promise(() => undefined) : Promise.resolve()), {
      clock,
      ms: 2_000,
    })
    readiness.migrated()

    const stuck = readiness.check()
    await clock.advance(1_999)
    let settled = false
    void stuck.then(() => (settled = true))
    await Promise.resolve()
    expect(settled).toBe(false)
    await clock.advance(1)
    expect(await stuck).toEqual({ ready: false, detail: 'the database does not answer: no answer within 2000 ms' })

    hang = false
    expect(await readiness.check()).toEqual({ ready: true })
    expect(clock.pendingTimers).toBe(0)
  })
})

/** The caches the warm start loads: those whose values come from the Plex server. */
const PLEX_CACHES = CACHES.filter((spec) => spec.plexServer === 'fetched').length
const WARMING = new RegExp(`^Not ready: warming the Plex caches \\((\\d+) of ${PLEX_CACHES} loaded(, \\d+ failed)?\\)$`)

describe('GET /api/health/ready waits for the first warm-up of the Plex caches', () => {
  let setup: PlexApp | undefined
  let sim2: RunningSimulator | undefined

  afterEach(async () => {
    await setup?.close()
    await sim2?.close()
    setup = sim2 = undefined
  })

  const ready = async () => {
    const response = await setup!.fetch('/api/health/ready')
    return { status: response.status, body: await json(response) }
  }

  it('is 503 with the progress while Plex is slow and the warm-up runs, 200 once every cache loaded', async () => {
    setup = await startService({ plex: true, sim: { latencyMs: 1_000 } })
    setup.sim.control.startSession({ kind: 'movie' })
    setup.runtime.startJobs()

    const during = await ready()
    expect(during.status).toBe(503)
    expect(during.body.status).toBe('not_ready')
    expect(during.body.detail).toMatch(WARMING)
    // The caches of one Plex call land after ~1 s, those of two calls in a row after ~2 s.
    await eventually(
      'ready reports some caches loaded and others still loading',
      async () => {
        const { status, body } = await ready()
        const loaded = Number(WARMING.exec(body.detail ?? '')?.[1] ?? 0)
        return status === 503 && loaded > 0 && loaded < PLEX_CACHES
      },
      8_000,
      50,
    )
    expect(setup.runtime.warmStart.firstWarmUp?.settled).toBe(false)

    await setup.runtime.warmStart.settled
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready' } })
    expect(setup.runtime.warmStart.firstWarmUp).toMatchObject({
      total: PLEX_CACHES,
      loaded: PLEX_CACHES,
      failed: 0,
      settled: true,
    })
    const sessions = await setup.fetch('/api/plex/sessions')
    expect(sessions.headers.get('x-cache'), 'what ready promised: the first dashboard finds the value').toBe('HIT')
    // The notification stream connected after the warm-up and refreshed the live caches: reloaded, not dropped.
    expect((await setup.fetch('/api/plex/activities')).headers.get('x-cache')).toBe('HIT')
  })

  it('ends in 200 when Plex fails: a failed warm-up settles readiness and is logged', async () => {
    setup = await startService({ plex: true })
    await setup.sim.control.setFault({ endpoint: '*', status: 503, latencyMs: 800 })
    setup.runtime.startJobs()

    const during = await ready()
    expect(during.status).toBe(503)
    expect(during.body.detail).toMatch(WARMING)

    await setup.runtime.warmStart.settled
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready' } })
    expect(setup.runtime.warmStart.firstWarmUp).toMatchObject({
      total: PLEX_CACHES,
      loaded: 0,
      failed: PLEX_CACHES,
      settled: true,
    })
    expect(setup.logLines.some((line) => line.includes('Plex caches warmed, some failed'))).toBe(true)
  })

  it('is 200 without waiting when Plex is not configured, and stays 200 while a Plex server set later loads', async () => {
    setup = await startService({ plex: true, configured: false, sim: { latencyMs: 1_000 } })
    setup.runtime.startJobs()
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready' } })
    expect(setup.runtime.warmStart.firstWarmUp, 'no warm-up at start').toBeUndefined()

    const saved = await setup.fetch(
      '/api/plex/validate',
      jsonInit('POST', { url: setup.sim.url, token: setup.sim.token }),
    )
    expect(saved.status).toBe(200)
    setup.sim.control.resetCounts()
    let reloaded = false
    await sleep(20) // the warm start reloads on a later tick than the change
    void setup.runtime.warmStart.settled.then(() => (reloaded = true))
    await eventually(
      'the new server is asked for the sessions',
      () => (setup!.sim.control.requestCounts()['/status/sessions'] ?? 0) > 0,
      5_000,
    )
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready' } })
    expect(reloaded, 'ready answered while the caches of the new server were loading').toBe(false)
    await setup.runtime.warmStart.settled
  })

  it('stays 200 after a Plex server change while the caches of the new server load', async () => {
    setup = await startService({ plex: true })
    setup.runtime.startJobs()
    await setup.runtime.warmStart.settled
    expect((await ready()).status).toBe(200)
    sim2 = await startSimulator({
      port: 0,
      token: 'second-sim-token-6161',
      seed: 7,
      items: 100,
      speed: 0,
      liveSessions: false,
      latencyMs: 1_000,
    })

    const saved = await setup.fetch(
      '/api/plex/validate',
      jsonInit('POST', { url: sim2.url, token: 'second-sim-token-6161' }),
    )
    expect(saved.status).toBe(200)
    sim2.control.resetCounts()
    await sleep(20)
    let reloaded = false
    void setup.runtime.warmStart.settled.then(() => (reloaded = true))
    await eventually(
      'the new server is asked for the sessions',
      () => (sim2!.control.requestCounts()['/status/sessions'] ?? 0) > 0,
      5_000,
    )
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready' } })
    expect(reloaded, 'ready answered while the caches of the new server were loading').toBe(false)
    await setup.runtime.warmStart.settled
  })
})

describe('WarmUpReadiness', () => {
  const progress = (over: Partial<WarmUpProgress> = {}): WarmUpProgress => ({
    startedAt: 0,
    total: 6,
    loaded: 2,
    failed: 0,
    settled: false,
    ...over,
  })

  it('gives up waiting at the bound after the warm-up began, on the clock it is given', async () => {
    const clock = new ManualClock()
    let warmUp: WarmUpProgress | undefined = progress({ startedAt: clock.now() })
    const readiness = new WarmUpReadiness({ firstWarmUp: () => warmUp, clock, boundMs: 30_000 })
    readiness.jobsStarted(Promise.resolve())
    await Promise.resolve()

    expect(readiness.check()).toEqual({ ready: false, detail: 'warming the Plex caches (2 of 6 loaded)' })
    warmUp = progress({ startedAt: warmUp.startedAt, loaded: 3, failed: 1 })
    await clock.advance(29_999)
    expect(readiness.check()).toEqual({ ready: false, detail: 'warming the Plex caches (3 of 6 loaded, 1 failed)' })
    await clock.advance(1)
    expect(readiness.check()).toEqual({ ready: true })
    await clock.advance(1)
    expect(readiness.check(), 'once ready, it stays so').toEqual({ ready: true })
  })

  it('waits for the leader election; a follower is then ready, and stays so when it leads and warms later', async () => {
    const clock = new ManualClock()
    let warmUp: WarmUpProgress | undefined = undefined
    let decide!: () => void
    const readiness = new WarmUpReadiness({ firstWarmUp: () => warmUp, clock, boundMs: 30_000 })
    expect(readiness.check(), 'jobs not started: nothing to wait for').toEqual({ ready: true })

    readiness.jobsStarted(new Promise<void>((resolve) => (decide = resolve)))
    expect(readiness.check()).toEqual({
      ready: false,
      detail: 'waiting for the leader election in Redis: the leader warms the Plex caches first',
    })
    decide()
    await Promise.resolve()
    expect(readiness.check()).toEqual({ ready: true })

    warmUp = progress({ startedAt: clock.now() })
    expect(readiness.check(), 'a warm-up after taking over the lease').toEqual({ ready: true })
  })

  it('the leader stays unready through the election until its warm-up settles', async () => {
    const clock = new ManualClock()
    let warmUp: WarmUpProgress | undefined
    let decide!: () => void
    const readiness = new WarmUpReadiness({ firstWarmUp: () => warmUp, clock, boundMs: 30_000 })
    readiness.jobsStarted(new Promise<void>((resolve) => (decide = resolve)))
    warmUp = progress({ startedAt: clock.now(), loaded: 0 })
    decide()
    await Promise.resolve()
    expect(readiness.check()).toEqual({ ready: false, detail: 'warming the Plex caches (0 of 6 loaded)' })
    warmUp = progress({ loaded: 5, failed: 1, settled: true })
    expect(readiness.check()).toEqual({ ready: true })
  })

  it('does not wait forever for an election that never answers', async () => {
    const clock = new ManualClock()
    const readiness = new WarmUpReadiness({ firstWarmUp: () => undefined, clock, boundMs: 5_000 })
    readiness.jobsStarted(new Promise(() => undefined))
    await clock.advance(4_999)
    expect(readiness.check().ready).toBe(false)
    await clock.advance(1)
    expect(readiness.check()).toEqual({ ready: true })
  })
})
