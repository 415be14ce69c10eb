import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/cache/index.js'
import { DatabaseReadiness } from '../../src/readiness.js'
import { answering, json, sqliteOf, startTestApp, type Target, type TestApp } from '../support/api-harness.js'

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
    t = await startTestApp({ ENABLE_AUTH: 'true', AUTH_USERNAME: 'admin', AUTH_PASSWORD: 'pw', PLEX_SERVER_URL: plex.url, PLEX_SERVER_TOKEN: 'tok' })

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
    t = await startTestApp()
    t.runtime.health.database.unavailable('PostgreSQL at db:5432 refused the connection; retrying')

    const notReady = await fetch(`${t.url}/api/health/ready`)
    expect(notReady.status).toBe(503)
    expect(await json(notReady)).toEqual({ status: 'not_ready', detail: 'Not ready: PostgreSQL at db:5432 refused the connection; retrying' })
    expect((await fetch(`${t.url}/api/health/live`)).status).toBe(200)

    t.runtime.health.database.migrated()
    expect((await fetch(`${t.url}/api/health/ready`)).status).toBe(200)
  })

  it('ready turns 503 as soon as the database stops answering; live and /api/health stay 200', async () => {
    t = await startTestApp()
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
    expect(await readiness.check()).toEqual({ ready: false, detail: 'the database is not open yet: migrations have not run' })
    expect(pings).toBe(0)
    readiness.migrated()
    expect(await readiness.check()).toEqual({ ready: true })
    expect(pings).toBe(1)
  })

  it('awaits an asynchronous ping and reports its failure', async () => {
    const readiness = new DatabaseReadiness(() => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.5:5432')))
    readiness.migrated()
    expect(await readiness.check()).toEqual({ ready: false, detail: 'the database does not answer: connect ECONNREFUSED 10.0.0.5:5432' })
  })
})

describe('DatabaseReadiness with a ping deadline', () => {
  it('answers not ready when the ping hangs past the deadline, and ready again once pings answer', async () => {
    const clock = new ManualClock()
    let hang = true
    const readiness = new DatabaseReadiness(() => (hang ? new Promise(() => undefined) : Promise.resolve()), { clock, ms: 2_000 })
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
