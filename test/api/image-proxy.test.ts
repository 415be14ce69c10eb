import type { IncomingHttpHeaders } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import {
  closedPortUrl,
  json,
  PLEX_TOKEN,
  type PlexApp,
  startTarget,
  type Target,
  startService,
} from '../support/api-harness.js'

let setup: PlexApp | undefined
const targets: Target[] = []
afterEach(async () => {
  await setup?.close()
  setup = undefined
  for (const target of targets.splice(0)) await target.close()
})

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')

/** A stand-in for plex.tv: serves an avatar, or redirects; records the headers it got. */
async function fakePlexTv(redirectTo?: (self: string) => string): Promise<Target & { seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = []
  let self = ''
  const target = await startTarget((req, res) => {
    seen.push(req.headers)
    if (req.url?.startsWith('/redirect') && redirectTo)
      return void res.writeHead(302, { location: redirectTo(self) }).end()
    res.writeHead(200, { 'content-type': 'image/png' }).end(PNG)
  })
  self = target.url
  targets.push(target)
  return Object.assign(target, { seen })
}

const proxied = (url: string) => `/api/plex/proxy/image?url=${encodeURIComponent(url)}`

async function aPosterPath(s: PlexApp): Promise<string> {
  const response = await fetch(`${s.sim.url}/library/sections/1/all`, {
    headers: { 'X-Plex-Token': s.sim.token, Accept: 'application/json' },
  })
  const body = (await response.json()) as { MediaContainer: { Metadata: Array<{ thumb: string }> } }
  return body.MediaContainer.Metadata[0]!.thumb
}

describe('GET /api/plex/proxy/image', () => {
  it('streams a Plex poster from a PMS path, adding the token server-side and never showing it', async () => {
    const plexTv = await fakePlexTv()
    setup = await startService({ plex: true, env: { PLEX_TV_URL: plexTv.url } })
    const path = await aPosterPath(setup)
    const direct = Buffer.from(
      await (await fetch(setup.sim.url + path, { headers: { 'X-Plex-Token': PLEX_TOKEN } })).arrayBuffer(),
    )

    const urls = [path, setup.sim.url + path, `${setup.sim.url}${path}?X-Plex-Token=stale-old-token`]
    for (const [i, url] of urls.entries()) {
      const response = await setup.fetch(proxied(url))
      expect({ url, status: response.status }).toEqual({ url, status: 200 })
      expect(response.headers.get('content-type')).toBe('image/png')
      // A versioned poster (`/thumb/<updatedAt>`); the three spellings are one cached image.
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
      expect(response.headers.get('x-cache')).toBe(i === 0 ? 'MISS' : 'HIT')
      expect(response.headers.get('x-content-type-options')).toBe('nosniff')
      expect(Buffer.from(await response.arrayBuffer()).equals(direct)).toBe(true)
      expect(JSON.stringify([...response.headers])).not.toContain(PLEX_TOKEN)
    }
    expect(setup.logLines.join('\n')).not.toContain(PLEX_TOKEN)
  })

  it('fetches plex.tv avatars without sending them the token, and follows a redirect that stays on allowed hosts', async () => {
    const plexTv = await fakePlexTv((self) => `${self}/users/abc/avatar-real`)
    setup = await startService({ plex: true, env: { PLEX_TV_URL: plexTv.url } })
    for (const path of ['/users/abc/avatar?c=1', '/redirect/users/abc/avatar']) {
      const response = await setup.fetch(proxied(plexTv.url + path))
      expect({ path, status: response.status }).toEqual({ path, status: 200 })
      expect(Buffer.from(await response.arrayBuffer()).equals(PNG)).toBe(true)
    }
    expect(plexTv.seen).toHaveLength(3)
    for (const headers of plexTv.seen) expect(JSON.stringify(headers)).not.toContain(PLEX_TOKEN)
  })

  it('refuses a redirect to any other host with a 400 naming it, without contacting that host', async () => {
    const elsewhere = await fakePlexTv()
    const plexTv = await fakePlexTv(() => `${elsewhere.url}/stolen.png`)
    setup = await startService({ plex: true, env: { PLEX_TV_URL: plexTv.url } })
    const response = await setup.fetch(proxied(`${plexTv.url}/redirect/avatar`))
    expect(response.status).toBe(400)
    expect((await json(response)).detail).toContain(`host "${new URL(elsewhere.url).host}"`)
    expect(elsewhere.seen).toHaveLength(0)
  })

  it('refuses other hosts, other schemes and non-image Plex endpoints with a 400 naming the problem', async () => {
    setup = await startService({ plex: true })
    const other = await closedPortUrl()
    const cases: Array<[string, RegExp]> = [
      ['https://example.com/poster.png', /host "example\.com"/],
      [`${other}/library/metadata/1/thumb/2`, new RegExp(`host "${new URL(other).host}"`)],
      ['http://plex.tv.evil.com/users/a/avatar', /host "plex\.tv\.evil\.com"/],
      ['http://plex.tv/users/a/avatar', /host "plex\.tv"/],
      ['ftp://plex.tv/a.png', /scheme "ftp:"/],
      ['file:///etc/passwd', /scheme "file:"/],
      ['javascript:alert(1)', /scheme "javascript:"/],
      ['data:image/png;base64,AAAA', /scheme "data:"/],
      ['//example.com/a.png', /Plex path .* or an absolute http\(s\) URL/],
      ['/myplex/account', /"\/myplex\/account", which is not an image endpoint/],
      ['/library/../accounts', /"\/accounts", which is not an image endpoint/],
      [`${setup.sim.url}/status/sessions`, /not an image endpoint/],
      [`http://user:pw@${new URL(setup.sim.url).host}/library/metadata/1/thumb/1`, /credentials/],
    ]
    for (const [url, detail] of cases) {
      const response = await setup.fetch(proxied(url))
      const body = await json(response)
      expect({ url, status: response.status }).toEqual({ url, status: 400 })
      expect(body.detail).toMatch(detail)
    }
    expect((await json(await setup.fetch('/api/plex/proxy/image'))).detail).toMatch(/query parameter "url"/)
  })

  it('passes on only images: a Plex answer of another type is a 502, a missing image a 404', async () => {
    setup = await startService({ plex: true })
    const notImage = await setup.fetch(proxied('/library/sections'))
    expect(notImage.status).toBe(502)
    const text = await notImage.text()
    expect(text).toMatch(/not an image/)
    expect(text).not.toContain('MediaContainer')
    expect((await setup.fetch(proxied('/library/metadata/1/nothing-here'))).status).toBe(404)
  })

  it('refuses Plex paths while Plex is not configured, and is open without credentials', async () => {
    setup = await startService({
      plex: true,
      configured: false,
      env: { ENABLE_AUTH: 'true', AUTH_USERNAME: 'admin', AUTH_PASSWORD: 'secret-pass' },
    })
    const response = await setup.fetch(proxied('/library/metadata/1/thumb/1'))
    expect(response.status).toBe(400)
    expect((await json(response)).detail).toMatch(/Plex is not configured/)
    const avatar = await setup.fetch(proxied(`${setup.sim.url}/users/abc/avatar`))
    expect(avatar.status).toBe(200)
    expect(avatar.headers.get('content-type')).toBe('image/png')
  })
})
