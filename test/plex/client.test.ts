// Client behaviours pinned against small real HTTP servers written in the test: what no recording
// shows (servers ignoring paging, malformed fields, hangs, resets, redirects, plex.tv XML).
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import {
  PlexAbortedError,
  PlexAuthError,
  PlexError,
  PlexHttpError,
  PlexResponseError,
  PlexTimeoutError,
  PlexUnreachableError,
  createPlexClient,
  type PlexClientOptions,
} from '../../src/plex/index.js'
import { paging, sendJson, startFixtureServer, type FixtureServer } from './helpers/fixture-server.js'

const TOKEN = 'fixture-token-Zq8w2'

let servers: FixtureServer[] = []
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()))
  servers = []
})

async function serve(handler: Parameters<typeof startFixtureServer>[0]): Promise<FixtureServer> {
  const s = await startFixtureServer(handler)
  servers.push(s)
  return s
}

function clientFor(s: FixtureServer, extra: Partial<PlexClientOptions> = {}) {
  return createPlexClient({ baseUrl: s.url, token: TOKEN, clientIdentifier: 'test-client-1', ...extra })
}

function leakText(err: unknown): string {
  const e = err as Error
  return [
    String(e),
    e.message,
    e.stack,
    JSON.stringify(e),
    String(e.cause),
    (e.cause as Error | undefined)?.stack,
  ].join('\n')
}

const session = (over: Record<string, unknown> = {}) => ({
  sessionKey: '1',
  type: 'movie',
  title: 'A',
  User: { id: '1', title: 'u' },
  Player: { state: 'playing' },
  ...over,
})

describe('requests', () => {
  it('sends the token and X-Plex identification as headers and asks for JSON, never the token in the URL', async () => {
    const s = await serve((_req, res) => sendJson(res, { MediaContainer: { size: 0 } }))
    await clientFor(s, { product: 'prod-x', extraHeaders: { 'X-Recorded-Variant': 'v1' } }).sessions()
    const [req] = s.seen
    expect(req!.url).toBe('/status/sessions')
    expect(req!.headers).toMatchObject({
      accept: 'application/json',
      'x-plex-token': TOKEN,
      'x-plex-client-identifier': 'test-client-1',
      'x-plex-product': 'prod-x',
      'x-plex-version': expect.stringMatching(/^\d+\.\d+\.\d+/),
      'x-plex-platform': 'Node.js',
      'x-plex-device-name': 'prod-x',
      'x-recorded-variant': 'v1',
    })
  })

  it('tolerates a trailing slash in baseUrl', async () => {
    const s = await serve((_req, res) => sendJson(res, { MediaContainer: { size: 0 } }))
    await createPlexClient({ baseUrl: `${s.url}///`, token: TOKEN }).activities()
    expect(s.seen[0]!.url).toBe('/activities')
  })

  it('keeps the same default client identifier across clients (stable id)', async () => {
    const s = await serve((_req, res) => sendJson(res, { MediaContainer: { size: 0 } }))
    await createPlexClient({ baseUrl: s.url, token: TOKEN }).activities()
    await createPlexClient({ baseUrl: s.url, token: TOKEN }).activities()
    const ids = s.seen.map((r) => r.headers['x-plex-client-identifier'])
    expect(ids[0]).toMatch(/^komandorr-cache-[0-9a-f]{16}$/)
    expect(ids[1]).toBe(ids[0])
  })
})

describe('coercion', () => {
  it('coerces drifting types: numeric strings, 0/1/"1"/true flags, numeric ratingKeys and section ids', async () => {
    const s = await serve((_req, res) =>
      sendJson(res, {
        MediaContainer: {
          size: 3,
          Metadata: [
            session({
              sessionKey: 7,
              ratingKey: 42,
              librarySectionID: '2',
              viewOffset: '1500',
              duration: 3000,
              Player: { state: 'paused', local: '0', secure: 1, relayed: true },
            }),
            session({
              sessionKey: '8',
              librarySectionID: 5,
              Player: { state: 'buffering', local: 'true' },
              TranscodeSession: {
                progress: '55.5',
                speed: 1.2,
                throttled: '1',
                videoDecision: 'transcode',
                audioDecision: 'copy',
              },
              Media: [
                { id: '1', videoResolution: 1080, selected: 0, Part: [{ id: 1, decision: 'transcode' }] },
                { id: 2, videoResolution: '4k', selected: '1', Part: [{ id: '2', decision: 'directplay' }] },
              ],
            }),
            session({ sessionKey: '9', live: 1, Player: { state: 'playing' } }),
          ],
        },
      }),
    )
    const [a, b, live] = await clientFor(s).sessions()
    expect(a).toMatchObject({
      sessionKey: '7',
      ratingKey: '42',
      librarySectionID: 2,
      viewOffset: 1500,
      duration: 3000,
      live: false,
    })
    expect(a!.player).toMatchObject({ state: 'paused', local: false, secure: true, relayed: true })
    expect(a!.transcodeSession).toBeUndefined()
    expect(a!.media).toEqual([])
    expect(a!.selectedMedia).toBeUndefined()
    expect(a!.grandparentTitle).toBeUndefined()
    expect(b!.librarySectionID).toBe(5)
    expect(b!.player.local).toBe(true)
    expect(b!.transcodeSession).toMatchObject({
      progress: 55.5,
      speed: 1.2,
      throttled: true,
      videoDecision: 'transcode',
      audioDecision: 'copy',
    })
    expect(b!.media.map((m) => [m.id, m.videoResolution, m.selected])).toEqual([
      [1, '1080', false],
      [2, '4k', true],
    ])
    expect(b!.selectedMedia).toBe(b!.media[1])
    expect(b!.selectedMedia!.parts[0]).toMatchObject({ id: 2, decision: 'directplay' })
    expect(live).toMatchObject({ live: true, ratingKey: undefined })
  })

  it('rejects a value that cannot be coerced, naming the endpoint and the field path', async () => {
    const s = await serve((_req, res) =>
      sendJson(res, {
        MediaContainer: {
          Metadata: [session(), session({ sessionKey: '2' }), session({ sessionKey: '3', viewOffset: 'abc' })],
        },
      }),
    )
    const err = await clientFor(s)
      .sessions()
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PlexResponseError)
    expect((err as Error).message).toBe('Plex /status/sessions: Metadata[2].viewOffset is "abc", not a number')
    expect(err).toMatchObject({ kind: 'response', endpoint: '/status/sessions' })
  })

  it('rejects a flag that is neither boolean nor 0/1, and a missing required field', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/activities')
        sendJson(res, { MediaContainer: { Activity: [{ uuid: 'u', type: 't', cancellable: 'maybe' }] } })
      else sendJson(res, { MediaContainer: { Metadata: [{ historyKey: '/h/1', type: 'movie', accountID: 1 }] } })
    })
    const c = clientFor(s)
    await expect(c.activities()).rejects.toThrow('Plex /activities: Activity[0].cancellable is "maybe", not a flag')
    await expect(c.history().next()).rejects.toThrow(
      'Plex /status/sessions/history/all: Metadata[0].viewedAt is missing',
    )
  })

  it('turns empty containers (no array key) into empty lists', async () => {
    const s = await serve((_req, res) => sendJson(res, { MediaContainer: { size: 0 } }))
    const c = clientFor(s)
    expect(await c.sessions()).toEqual([])
    expect(await c.activities()).toEqual([])
    expect(await c.accounts()).toEqual([])
    expect(await c.librarySections()).toEqual([])
    expect(await c.recentlyAdded()).toEqual([])
    expect(await c.sectionTotal(1, 1)).toBe(0)
  })

  it('marks history rows of deleted items, which keep only a few fields', async () => {
    const s = await serve((_req, res) =>
      sendJson(res, {
        MediaContainer: {
          size: 2,
          totalSize: 2,
          Metadata: [
            {
              historyKey: '/status/sessions/history/9',
              title: 'Gone',
              type: 'movie',
              viewedAt: 100,
              accountID: 1,
              librarySectionID: '1',
            },
            {
              historyKey: '/status/sessions/history/8',
              ratingKey: '5',
              title: 'Here',
              type: 'episode',
              viewedAt: '99',
              accountID: '2',
              deviceID: 3,
            },
          ],
        },
      }),
    )
    const rows = (await clientFor(s).history().next()).value!.rows
    expect(rows[0]).toMatchObject({
      deleted: true,
      ratingKey: undefined,
      title: 'Gone',
      librarySectionID: 1,
      viewedAt: 100,
      accountID: 1,
      grandparentTitle: undefined,
    })
    expect(rows[1]).toMatchObject({ deleted: false, ratingKey: '5', viewedAt: 99, accountID: 2, deviceID: 3 })
  })

  it('rejects a 200 reply that is not a MediaContainer (an HTML page, broken JSON)', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html' })
        res.end('<html><body>captive portal</body></html>')
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json' })
        res.end('{"MediaContainer": {')
      }
    })
    await expect(clientFor(s).serverInfo()).rejects.toThrow('Plex /: the reply has no MediaContainer object')
    await expect(clientFor(s).sessions()).rejects.toThrow(/^Plex \/status\/sessions: the reply is not valid JSON/)
  })
})

describe('paging', () => {
  const rows = (n: number, from = 0) =>
    Array.from({ length: n }, (_, i) => ({
      historyKey: `/h/${from + i}`,
      ratingKey: String(from + i),
      title: `t${from + i}`,
      type: 'movie',
      viewedAt: 1000 - i,
      accountID: 1,
    }))

  it('walks totalSize with X-Plex-Container-Start/Size headers and sends filters in the query', async () => {
    const s = await serve((req, res) => {
      const { start = 0, size = 0 } = paging(req)
      const n = Math.max(0, Math.min(size, 2500 - start))
      sendJson(res, { MediaContainer: { size: n, totalSize: 2500, offset: start, Metadata: rows(n, start) } })
    })
    const pages = []
    for await (const page of clientFor(s).history({ since: 1700000000, accountId: 3, sectionId: 2, pageSize: 1000 }))
      pages.push(page)
    expect(pages.map((p) => [p.offset, p.rows.length, p.totalSize])).toEqual([
      [0, 1000, 2500],
      [1000, 1000, 2500],
      [2000, 500, 2500],
    ])
    expect(s.seen.map((r) => [r.headers['x-plex-container-start'], r.headers['x-plex-container-size']])).toEqual([
      ['0', '1000'],
      ['1000', '1000'],
      ['2000', '1000'],
    ])
    const url = new URL(s.seen[0]!.url, s.url)
    expect(url.pathname).toBe('/status/sessions/history/all')
    expect(Object.fromEntries(url.searchParams)).toEqual({
      sort: 'viewedAt:desc',
      'viewedAt>': '1700000000',
      accountID: '3',
      librarySectionID: '2',
    })
  })

  it('stops after one request when the server ignores paging and sends everything', async () => {
    const s = await serve((_req, res) => sendJson(res, { MediaContainer: { size: 2500, Metadata: rows(2500) } }))
    const pages = []
    for await (const page of clientFor(s).history({ pageSize: 1000 })) pages.push(page)
    expect(s.seen).toHaveLength(1)
    expect(pages.flatMap((p) => p.rows)).toHaveLength(2500)
  })

  it('stops when the server honours Size but ignores Start (the same first page again)', async () => {
    const s = await serve((req, res) => {
      const { size = 0 } = paging(req)
      sendJson(res, { MediaContainer: { size, totalSize: 5000, Metadata: rows(size) } })
    })
    const seenKeys: string[] = []
    for await (const page of clientFor(s).history({ pageSize: 100 }))
      seenKeys.push(...page.rows.map((r) => r.historyKey))
    expect(s.seen).toHaveLength(2)
    expect(seenKeys).toHaveLength(100)
    expect(new Set(seenKeys).size).toBe(100)
  })

  it('stops on an empty page when the server states no totalSize', async () => {
    const s = await serve((req, res) => {
      const { start = 0, size = 0 } = paging(req)
      const n = Math.max(0, Math.min(size, 200 - start))
      sendJson(res, { MediaContainer: { size: n, Metadata: rows(n, start) } })
    })
    let total = 0
    for await (const page of clientFor(s).sectionItems(1, { type: 1, pageSize: 100 })) total += page.items.length
    expect(total).toBe(200)
    expect(s.seen).toHaveLength(3)
    expect(new URL(s.seen[0]!.url, s.url).search).toBe('?type=1&includeCollections=0')
  })

  it('counts a section with a Size 0 request', async () => {
    const s = await serve((req, res) =>
      sendJson(res, { MediaContainer: { size: 0, totalSize: paging(req).size === 0 ? 1234 : -1 } }),
    )
    expect(await clientFor(s).sectionTotal(4, 4)).toBe(1234)
    expect(s.seen[0]!.url).toBe('/library/sections/4/all?type=4&includeCollections=0')
  })
})

describe('metadata batching', () => {
  it('fetches many ratingKeys in comma-separated batches, once per key', async () => {
    const s = await serve((req, res) => {
      const keys = decodeURIComponent(new URL(req.url!, 'http://x').pathname.split('/').pop()!).split(',')
      sendJson(res, {
        MediaContainer: {
          size: keys.length,
          Metadata: keys.map((k) => ({ ratingKey: k, type: 'movie', title: `m${k}` })),
        },
      })
    })
    const keys = Array.from({ length: 120 }, (_, i) => String(i + 1))
    const items = await clientFor(s).metadata([...keys, '1', '2'])
    expect(items.map((i) => i.ratingKey)).toEqual(keys)
    expect(s.seen.map((r) => r.url.split('/').pop()!.split(',').length)).toEqual([50, 50, 20])
    expect(s.seen[0]!.url).toBe(`/library/metadata/${keys.slice(0, 50).join(',')}`)
  })
})

describe('failures', () => {
  it('maps 401 to PlexAuthError and other statuses to PlexHttpError with the status', async () => {
    const s = await serve((req, res) => {
      const status = req.url === '/status/sessions' ? 401 : 500
      res.writeHead(status, { 'Content-Type': 'text/html' })
      res.end(`<html><title>${status}</title></html>`)
    })
    const auth = await clientFor(s)
      .sessions()
      .catch((e: unknown) => e)
    expect(auth).toBeInstanceOf(PlexAuthError)
    expect(auth).toMatchObject({
      kind: 'auth',
      status: 401,
      message: 'Plex answered 401: the token is not accepted (/status/sessions)',
    })
    const http = await clientFor(s)
      .activities()
      .catch((e: unknown) => e)
    expect(http).toBeInstanceOf(PlexHttpError)
    expect(http).toMatchObject({
      kind: 'http',
      status: 500,
      message: 'Plex /activities answered 500 Internal Server Error',
    })
  })

  it('gives up on a server that never answers with PlexTimeoutError naming endpoint and deadline', async () => {
    const s = await serve(() => {})
    const err = await clientFor(s, { timeoutMs: 150 })
      .sessions()
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PlexTimeoutError)
    expect(err).toMatchObject({
      kind: 'timeout',
      timeoutMs: 150,
      message: 'Plex /status/sessions did not answer within 150 ms',
    })
  })

  it('applies the deadline to a body that stalls after the headers', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.write('{"MediaContainer":{"size":1,')
    })
    await expect(clientFor(s, { timeoutMs: 150 }).sessions()).rejects.toBeInstanceOf(PlexTimeoutError)
  })

  it('reports an abort by the caller as PlexAbortedError, not a timeout', async () => {
    const s = await serve(() => {})
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 50)
    const err = await clientFor(s, { timeoutMs: 5_000 })
      .sessions(controller.signal)
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PlexAbortedError)
    expect(err).toMatchObject({ kind: 'aborted', name: 'PlexAbortedError' })
    const before = s.seen.length
    await expect(clientFor(s).activities(AbortSignal.abort())).rejects.toBeInstanceOf(PlexAbortedError)
    expect(s.seen.length).toBe(before)
  })

  it('reports a refused connection as PlexUnreachableError naming host:port', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port
        srv.close(() => resolve(p))
      })
    })
    const err = await createPlexClient({ baseUrl: `http://127.0.0.1:${port}`, token: TOKEN })
      .sessions()
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PlexUnreachableError)
    expect(err).toMatchObject({ kind: 'unreachable', address: `127.0.0.1:${port}`, code: 'ECONNREFUSED' })
    expect((err as Error).message).toBe(
      `Plex at 127.0.0.1:${port} is unreachable (ECONNREFUSED): /status/sessions failed`,
    )
  })

  it('reports a connection reset mid-request as PlexUnreachableError', async () => {
    const s = await serve((req) => req.socket.destroy())
    await expect(clientFor(s).sessions()).rejects.toBeInstanceOf(PlexUnreachableError)
  })

  it('never puts the token in an error message, stack or cause (plex.tv carries it in the query)', async () => {
    const s = await serve((req, res) => {
      if (req.url?.startsWith('/api/')) req.socket.destroy()
      else {
        res.writeHead(503)
        res.end(`token was ${TOKEN}`)
      }
    })
    const c = clientFor(s, { plexTvUrl: s.url, timeoutMs: 200 })
    const errors = await Promise.all([
      c.sharedServers('abc').catch((e: unknown) => e),
      c.sessions().catch((e: unknown) => e),
      createPlexClient({ baseUrl: 'http://127.0.0.1:1', token: TOKEN, plexTvUrl: 'http://127.0.0.1:1' })
        .sharedServers('m')
        .catch((e: unknown) => e),
    ])
    for (const err of errors) {
      expect(err).toBeInstanceOf(PlexError)
      expect(leakText(err)).not.toContain(TOKEN)
    }
    expect(s.seen[0]!.url).toContain(`X-Plex-Token=${TOKEN}`)
  })
})

describe('plex.tv shared servers', () => {
  it('reads SharedServer XML without ever returning the users’ access tokens', async () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<MediaContainer friendlyName="myPlex" identifier="com.plexapp.plugins.myplex" machineIdentifier="mid1" size="2">
  <SharedServer id="111" username="alice" email="alice@example.com" userID="1000" accessToken="user-secret-a" name="Home" acceptedAt="1600000000" invitedAt="1590000000" allowSync="1" allowCameraUpload="0" allowChannels="0" allowTuners="0" owned="0" allLibraries="0">
    <Section id="10" key="1" title="Movies" type="movie" shared="1"/>
    <Section id="11" key="2" title="TV Shows" type="show" shared="0"/>
  </SharedServer>
  <SharedServer id="112" username="bob &amp; co" email="" userID="1001" accessToken="user-secret-b" name="Home" acceptedAt="0" invitedAt="1590000001" allowSync="0" owned="0" allLibraries="1"/>
</MediaContainer>`
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/xml' })
      res.end(xml)
    })
    const shared = await createPlexClient({
      baseUrl: 'http://127.0.0.1:1',
      token: TOKEN,
      plexTvUrl: `${s.url}/`,
    }).sharedServers('mid1')
    expect(shared).toEqual([
      {
        id: 111,
        userID: 1000,
        username: 'alice',
        email: 'alice@example.com',
        name: 'Home',
        invitedAt: 1590000000,
        acceptedAt: 1600000000,
        owned: false,
        allowSync: true,
        allLibraries: false,
        sections: [
          { id: 10, key: '1', title: 'Movies', type: 'movie', shared: true },
          { id: 11, key: '2', title: 'TV Shows', type: 'show', shared: false },
        ],
      },
      expect.objectContaining({
        id: 112,
        userID: 1001,
        username: 'bob & co',
        email: undefined,
        allLibraries: true,
        sections: [],
      }),
    ])
    expect(JSON.stringify(shared)).not.toMatch(/user-secret/)
    const req = s.seen[0]!
    expect(new URL(req.url, s.url).pathname).toBe('/api/servers/mid1/shared_servers')
    expect(req.headers['x-plex-token']).toBe(TOKEN)
  })
})

describe('images', () => {
  it('fetches a PMS image with the token, and passes other statuses through', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3])
    const s = await serve((req, res) => {
      if (req.url === '/library/metadata/1/thumb/2') {
        res.writeHead(200, { 'Content-Type': 'image/png' })
        res.end(png)
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' })
        res.end('nope')
      }
    })
    const img = await clientFor(s).fetchImage('/library/metadata/1/thumb/2')
    expect(img).toEqual({ status: 200, contentType: 'image/png', body: png })
    expect(s.seen[0]!.headers['x-plex-token']).toBe(TOKEN)
    expect(s.seen[0]!.url).not.toContain('Token')
    const missing = await clientFor(s).fetchImage('library/metadata/9/thumb/9')
    expect(missing).toMatchObject({ status: 404, body: Buffer.from('nope') })
  })

  it('never sends the token to another host, directly or through a redirect', async () => {
    const other = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'image/jpeg' })
      res.end('jpeg')
    })
    const pms = await serve((_req, res) => {
      res.writeHead(302, { Location: `${other.url}/avatar.jpg` })
      res.end()
    })
    const viaRedirect = await clientFor(pms).fetchImage('/photo/:/transcode?url=x')
    expect(viaRedirect).toMatchObject({ status: 200, contentType: 'image/jpeg' })
    const direct = await clientFor(pms).fetchImage(`${other.url}/users/abc/avatar`)
    expect(direct.status).toBe(200)
    expect(pms.seen[0]!.headers['x-plex-token']).toBe(TOKEN)
    expect(other.seen.map((r) => r.url)).toEqual(['/avatar.jpg', '/users/abc/avatar'])
    expect(other.seen.every((r) => r.headers['x-plex-token'] === undefined)).toBe(true)
  })

  it('rejects a 401 image answer as PlexAuthError and a non-http URL as a caller error', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(401)
      res.end()
    })
    await expect(clientFor(s).fetchImage('/library/metadata/1/thumb/1')).rejects.toBeInstanceOf(PlexAuthError)
    await expect(clientFor(s).fetchImage('file:///etc/passwd')).rejects.toThrow(TypeError)
  })
})
