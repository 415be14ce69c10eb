import { afterEach, describe, expect, it } from 'vitest'
import { json, type PlexApp, startService } from '../support/api-harness.js'

let setup: PlexApp | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
})

describe('GET /api/plex/users/count', () => {
  it('counts the users plex.tv lists as shared for this server, asking plex.tv once per TTL', async () => {
    setup = await startService({ plex: true })
    const response = await setup.fetch('/api/plex/users/count')
    expect(response.status).toBe(200)
    const body = await json(response)
    expect(body).toMatchObject({ count: setup.sim.control.state().sharedUsers, cached: false })
    expect(body.count).toBeGreaterThan(0)
    expect(setup.sim.control.requestCounts()).toEqual({ '/identity': 1, '/api/servers/:id/shared_servers': 1 })

    // Komandorr's UI polls every 10 s: those reads cost plex.tv nothing.
    for (let i = 0; i < 3; i++) expect((await setup.fetch('/api/plex/users/count')).headers.get('x-cache')).toBe('HIT')
    expect(setup.sim.control.totalRequests()).toBe(2)
  })

  it('answers a zero count when Plex is not configured', async () => {
    setup = await startService({ plex: true, configured: false })
    expect(await json(await setup.fetch('/api/plex/users/count'))).toEqual({ count: 0, message: 'Plex not configured' })
    expect(setup.sim.control.totalRequests()).toBe(0)
  })

  it('answers 503 while plex.tv and Plex are unreachable, and keeps no zero count', async () => {
    setup = await startService({ plex: true })
    await setup.sim.control.setFault({ mode: 'outage' })
    const response = await setup.fetch('/api/plex/users/count')
    expect(response.status).toBe(503)
    expect((await json(response)).detail).toMatch(/shared users count/)
    expect(setup.runtime.caches.get('plex_users_count')!.stats().entries).toBe(0)
  })
})
