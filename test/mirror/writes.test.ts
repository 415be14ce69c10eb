import { afterEach, describe, expect, it } from 'vitest'
import { startTarget, type Target } from '../support/api-harness.js'
import { RECORDED_TOKEN, startMirror, type MirrorApp } from './harness.js'

let pms: Target | undefined
let mirror: MirrorApp | undefined
afterEach(async () => {
  await mirror?.close()
  await pms?.close()
  mirror = pms = undefined
})

interface Seen {
  method: string
  url: string
  token: string | undefined
  body: string
}

/** A PMS stand-in: `/library/sections` lists a title that a PUT to a section changes. */
async function writablePms(seen: Seen[]): Promise<Target> {
  let title = 'Movies'
  return startTarget(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    seen.push({ method: req.method!, url: req.url!, token: req.headers['x-plex-token'] as string | undefined, body })
    if (req.headers['x-plex-token'] !== RECORDED_TOKEN) return void res.writeHead(401).end()
    if (req.method === 'GET' && req.url!.startsWith('/library/sections')) {
      res.writeHead(200, { 'content-type': 'text/xml;charset=utf-8' })
      return void res.end(`<MediaContainer size="1"><Directory key="1" title="${title}" /></MediaContainer>`)
    }
    if (req.method === 'PUT' && req.url!.startsWith('/library/sections/1')) {
      title = new URLSearchParams(req.url!.split('?')[1]).get('title') ?? title
      res.writeHead(200, { 'content-type': 'text/plain', 'x-stand-in': 'yes' })
      return void res.end(`renamed, body ${body.length} bytes`)
    }
    res.writeHead(404, { 'content-type': 'text/html' }).end('<html>404</html>')
  })
}

describe('a write through the mirror', () => {
  it('reaches PMS as sent (method, query, body, token), its answer comes back, and the answers it changes are dropped', async () => {
    const seen: Seen[] = []
    pms = await writablePms(seen)
    mirror = await startMirror(pms.url)
    const headers = { 'X-Plex-Token': RECORDED_TOKEN }
    const before = await fetch(mirror.url + '/library/sections', { headers })
    expect(await before.text()).toContain('title="Movies"')
    expect((await fetch(mirror.url + '/library/sections', { headers })).headers.get('x-cache')).toBe('HIT')
    const gets = () => seen.filter((s) => s.method === 'GET').length
    expect(gets()).toBe(1)

    const put = await fetch(`${mirror.url}/library/sections/1?title=Films`, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/octet-stream' },
      body: 'x'.repeat(100_000),
    })
    expect(put.status).toBe(200)
    expect(put.headers.get('x-stand-in')).toBe('yes')
    expect(await put.text()).toBe('renamed, body 100000 bytes')
    expect(seen.at(-1)).toEqual({
      method: 'PUT',
      url: '/library/sections/1?title=Films',
      token: RECORDED_TOKEN,
      body: 'x'.repeat(100_000),
    })

    const after = await fetch(mirror.url + '/library/sections', { headers })
    expect(after.headers.get('x-cache')).toBe('MISS')
    expect(await after.text()).toContain('title="Films"')
    expect(gets()).toBe(2)
  })

  it('keeps the cached answers when PMS refuses the write', async () => {
    const seen: Seen[] = []
    pms = await writablePms(seen)
    mirror = await startMirror(pms.url)
    const headers = { 'X-Plex-Token': RECORDED_TOKEN }
    await (await fetch(mirror.url + '/library/sections', { headers })).text()
    const refused = await fetch(`${mirror.url}/library/sections/1?title=Films`, {
      method: 'PUT',
      headers: { 'X-Plex-Token': 'not-the-token' },
    })
    expect(refused.status).toBe(401)
    expect((await fetch(mirror.url + '/library/sections', { headers })).headers.get('x-cache')).toBe('HIT')
  })
})
