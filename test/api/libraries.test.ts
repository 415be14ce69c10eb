import { afterEach, describe, expect, it } from 'vitest'
import { basic, json, PLEX_TOKEN, type PlexApp, startService } from '../support/api-harness.js'

let setup: PlexApp | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
})

const AUTH = { ENABLE_AUTH: 'true', AUTH_USERNAME: 'admin', AUTH_PASSWORD: 'secret-pass' }
const credentials = basic('admin', 'secret-pass')

describe('GET /api/invites/plex/config', () => {
  it('needs credentials, then lists the server and every library section', async () => {
    setup = await startService({ plex: true, env: AUTH })
    expect((await setup.fetch('/api/invites/plex/config')).status).toBe(401)

    const response = await setup.fetch('/api/invites/plex/config', { headers: credentials })
    expect(response.status).toBe(200)
    const body = await json(response)
    expect(body.servers).toEqual([{ id: 'default', name: 'Plex Server', url: setup.sim.url }])
    expect(body.libraries).toEqual(
      setup.sim.control.state().library.sections.map((s) => ({ id: String(s.id), name: s.title, type: s.type })),
    )
    expect(JSON.stringify(body)).not.toContain(PLEX_TOKEN)
  })

  it('keys the library cache by a hash of URL and token, never the token itself', async () => {
    setup = await startService({ plex: true })
    await setup.fetch('/api/invites/plex/config')
    const { caches, plex } = setup.runtime
    const libraries = caches.get('plex_libraries')!
    const key = libraries.keyFor(undefined)
    expect(key).toBe(`plex:libraries:${plex.fingerprint}`)
    expect(key).toMatch(/^plex:libraries:[0-9a-f]{16}$/)
    expect(key).not.toContain(PLEX_TOKEN.slice(0, 6))
    expect(libraries.stats().entries).toBe(1)
    expect((await setup.fetch('/api/invites/plex/config')).headers.get('x-cache')).toBe('HIT')
  })

  it('answers empty lists and an error when Plex is not configured', async () => {
    setup = await startService({ plex: true, configured: false })
    expect(await json(await setup.fetch('/api/invites/plex/config'))).toEqual({
      servers: [],
      libraries: [],
      error: 'Plex server not configured',
    })
    expect(setup.sim.control.totalRequests()).toBe(0)
  })
})
