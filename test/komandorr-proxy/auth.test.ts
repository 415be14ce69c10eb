import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { rawClient, uniquePrefix, cleanUp, SHARED_REDIS_URL } from '../redis/helpers.js'
import { startService, type TestApp } from '../support/api-harness.js'
import { KomandorrStandIn } from './stand-in.js'

const ADMIN = { username: 'admin', password: 'no-leak-pass-31415' }
const basic = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
const RIGHT = basic(ADMIN.username, ADMIN.password)
const WRONG = basic(ADMIN.username, 'guessed-password-27182')

describe("in front of Komandorr with its auth on: Komandorr's verdict decides", () => {
  let komandorr: KomandorrStandIn
  let service: TestApp
  const prefix = uniquePrefix('komandorr-auth')

  beforeAll(async () => {
    komandorr = await KomandorrStandIn.start({ auth: ADMIN })
    service = await startService({
      env: {
        KOMANDORR_URL: komandorr.url,
        LOG_LEVEL: 'debug',
        REDIS_URL: SHARED_REDIS_URL,
        REDIS_KEY_PREFIX: prefix,
        REDIS_TIMEOUT_MS: '1000',
      },
    })
  })
  afterAll(async () => {
    await service?.close()
    await komandorr?.close()
    await cleanUp(prefix)
  })
  beforeEach(() => komandorr.reset())

  const get = (path: string, authorization?: string) =>
    fetch(service.url + path, { headers: authorization === undefined ? {} : { authorization } })

  it('gives a cached answer to accepted credentials, and Komandorr its own 401 for other or none', async () => {
    const first = await get('/api/arr-activity/queue', RIGHT)
    expect(first.status).toBe(200)
    const cachedBody = await first.text()
    expect((await get('/api/arr-activity/queue', RIGHT)).headers.get('x-cache')).toBe('HIT')

    const none = await get('/api/arr-activity/queue')
    expect(none.status).toBe(401)
    expect(none.headers.get('x-cache')).toBeNull()
    expect(await none.json()).toEqual({ detail: 'Authentication required' })
    const wrong = await get('/api/arr-activity/queue', WRONG)
    expect(wrong.status).toBe(401)
    expect(await wrong.json()).toEqual({ detail: 'Invalid username or password' })
    // Both came from Komandorr itself: each was passed through.
    const passed = komandorr.received.filter((r) => r.url === '/api/arr-activity/queue')
    expect(passed.map((r) => r.headers.authorization)).toContain(undefined)
    expect(passed.map((r) => r.headers.authorization)).toContain(WRONG)
    expect(cachedBody).toContain('/api/arr-activity/queue')
  })

  it('asks Komandorr once per credential, then remembers: N requests cost one verdict and one load', async () => {
    // Twenty tabs sending the credentials the first test had checked.
    await Promise.all(Array.from({ length: 20 }, () => get('/api/uploader/failed_count', RIGHT)))
    expect(komandorr.count('GET', '/api/uploader/failed_count')).toBe(1)
    expect(komandorr.count('GET', '/api/health')).toBe(0) // remembered from the first test
  })

  it("opens the service's own routes to exactly the callers Komandorr accepts", async () => {
    expect((await get('/api/plex/cache/stats', RIGHT)).status).toBe(200)
    expect((await get('/api/plex/cache/stats')).status).toBe(401)
    expect((await get('/api/plex/cache/stats', WRONG)).status).toBe(401)
    expect((await get('/metrics', WRONG)).status).toBe(401)
    const health = await get('/api/health', WRONG)
    expect(health.status).toBe(401)
    // Public Plex routes stay public, as in Komandorr.
    expect((await get('/api/plex/stats')).status).toBe(200)
  })

  it('follows Komandorr when it turns auth off: everyone is accepted', async () => {
    komandorr.setAuth(undefined)
    await service.runtime.caches.invalidate('komandorr_auth_status')
    try {
      const response = await get('/api/arr-activity/queue')
      expect(response.status).toBe(200)
      expect(response.headers.get('x-cache')).not.toBeNull()
      expect((await get('/api/plex/cache/stats')).status).toBe(200)
    } finally {
      komandorr.setAuth(ADMIN)
      await service.runtime.caches.invalidate('komandorr_auth_status')
    }
    expect((await get('/api/arr-activity/queue')).status).toBe(401)
  })

  it('asks again after a write to Komandorr’s auth: a changed password stops being accepted at once', async () => {
    expect((await get('/api/invites/', RIGHT)).headers.get('x-cache')).not.toBeNull()
    const changed = { username: ADMIN.username, password: 'changed-password-16180' }
    komandorr.setAuth(changed)
    try {
      const update = await fetch(`${service.url}/api/auth/update`, {
        method: 'POST',
        headers: { authorization: RIGHT, 'content-type': 'application/json' },
        body: JSON.stringify({
          username: changed.username,
          current_password: ADMIN.password,
          new_password: changed.password,
        }),
      })
      expect(update.status).toBe(200)
      const old = await get('/api/invites/', RIGHT)
      expect(old.headers.get('x-cache')).toBeNull()
      expect((await get('/api/plex/cache/stats', RIGHT)).status).toBe(401)
      const renewed = await get('/api/invites/', basic(changed.username, changed.password))
      expect(renewed.headers.get('x-cache')).not.toBeNull()
    } finally {
      komandorr.setAuth(ADMIN)
      await service.runtime.komandorr!.callers.forget()
    }
  })

  it('never puts a credential in a Redis key or value, a log line or a metric', async () => {
    await get('/api/storage/summary', RIGHT)
    await get('/api/storage/summary', WRONG)
    const secrets = [ADMIN.password, 'guessed-password-27182', RIGHT.slice(6), WRONG.slice(6)]
    const redis = rawClient()
    try {
      const keys = await redis.keys(`${prefix}*`)
      expect(keys.length).toBeGreaterThan(0)
      const values = await Promise.all(keys.map((key) => redis.getBuffer(key).catch(() => null)))
      const stored = keys.join('\n') + values.map((v) => v?.toString('latin1') ?? '').join('\n')
      for (const secret of secrets) expect(stored).not.toContain(secret)
    } finally {
      redis.disconnect()
    }
    const metrics = await (await get('/metrics', RIGHT)).text()
    const stats = await (await get('/api/plex/cache/stats', RIGHT)).text()
    for (const secret of secrets) {
      expect(metrics).not.toContain(secret)
      expect(stats).not.toContain(secret)
      expect(service.logLines.join('\n')).not.toContain(secret)
    }
  })
})
