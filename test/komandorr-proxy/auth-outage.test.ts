import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/cache/index.js'
import { arrQueueCache } from '../../src/features/caches/komandorr-caches.js'
import { VERDICT_TTL_MS } from '../../src/features/komandorr-upstream/verdicts.js'
import { startService, type TestApp } from '../support/api-harness.js'
import { KomandorrStandIn } from './stand-in.js'

const ADMIN = { username: 'admin', password: 'outage-secret-1618' }
const RIGHT = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`
const OTHER = `Basic ${Buffer.from('someone:else').toString('base64')}`

describe('in front of Komandorr with its auth on, while Komandorr is down', () => {
  let komandorr: KomandorrStandIn
  let service: TestApp
  const clock = new ManualClock({ now: 1_000_000 })

  beforeAll(async () => {
    komandorr = await KomandorrStandIn.start({ auth: ADMIN })
    service = await startService({ env: { KOMANDORR_URL: komandorr.url, LOG_LEVEL: 'info' }, clock })
  })
  afterAll(async () => {
    await service?.close()
    await komandorr?.close()
  })

  const get = (path: string, authorization: string) => fetch(service.url + path, { headers: { authorization } })

  it('keeps serving an accepted caller stale answers past the verdict TTL, and never a caller it never accepted', async () => {
    const fresh = await get(arrQueueCache.path, RIGHT)
    expect(fresh.status).toBe(200)
    const body = await fresh.text()
    await komandorr.down()
    try {
      await clock.advance(VERDICT_TTL_MS + 1_000)
      const stale = await get(arrQueueCache.path, RIGHT)
      expect(stale.status).toBe(200)
      expect(stale.headers.get('x-cache')).toBe('STALE')
      expect(await stale.text()).toBe(body)

      // Nobody can ask Komandorr about these credentials: no cached body, Komandorr's absence said.
      const unknown = await get(arrQueueCache.path, OTHER)
      expect(unknown.status).toBe(502)
      expect(await unknown.text()).not.toBe(body)
      const own = await get('/api/plex/cache/stats', OTHER)
      expect(own.status).toBe(503)
      expect(((await own.json()) as { detail: string }).detail).toContain(
        'Could not check the credentials with Komandorr',
      )
      // The accepted caller's verdict is remembered for the service's own routes too.
      expect((await get('/api/plex/cache/stats', RIGHT)).status).toBe(200)
    } finally {
      await komandorr.up()
    }
  })
})
