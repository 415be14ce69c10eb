import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { PlexConfigService } from '../../src/features/plex/plex-config.js'
import { startSimulator, type RunningSimulator } from '../../sim/index.js'
import { createServer as createTcpServer, type AddressInfo } from 'node:net'
import {
  answering,
  basic,
  closedPortUrl,
  countOf,
  json,
  jsonInit,
  PLEX_TOKEN,
  type PlexApp,
  type TestApp,
  startService,
} from '../support/api-harness.js'

const SECOND_TOKEN = 'second-sim-token-9999'

let setup: PlexApp | undefined
const closers: Array<() => Promise<void> | void> = []
afterEach(async () => {
  await setup?.close()
  setup = undefined
  for (const close of closers.splice(0).reverse()) await close()
})

async function secondSim(): Promise<RunningSimulator> {
  const sim = await startSimulator({
    port: 0,
    token: SECOND_TOKEN,
    seed: 7,
    items: 200,
    speed: 0,
    liveSessions: false,
    serverName: 'Second Sim',
  })
  closers.push(() => sim.close())
  return sim
}

const PLEX_CACHED_PATHS = [
  '/api/plex/activities',
  '/api/plex/sessions',
  '/api/plex/stats/live',
  '/api/plex/media/recent',
  '/api/plex/users/count',
  '/api/invites/plex/config',
]

describe('GET /api/plex/config', () => {
  it('shows the URL and server name, says a token is set, and never returns it', async () => {
    setup = await startService({
      plex: true,
      env: { ENABLE_AUTH: 'true', AUTH_USERNAME: 'admin', AUTH_PASSWORD: 'secret-pass' },
    })
    expect((await setup.fetch('/api/plex/config')).status).toBe(401)
    const response = await setup.fetch('/api/plex/config', { headers: basic('admin', 'secret-pass') })
    expect(await json(response)).toEqual({ url: setup.sim.url, server_name: 'Plex Server', token_configured: true })
  })

  it('says no token is configured when Plex is not set up', async () => {
    setup = await startService({ plex: true, configured: false })
    expect(await json(await setup.fetch('/api/plex/config'))).toEqual({
      url: '',
      server_name: 'Plex Server',
      token_configured: false,
    })
  })
})

describe('POST /api/plex/validate and /api/plex/config', () => {
  it('switches to a server that answers: every Plex cache misses next and loads from the new server', async () => {
    setup = await startService({ plex: true })
    const sim2 = await secondSim()
    setup.sim.control.startSession({ kind: 'movie' })
    const newSession = sim2.control.startSession({ kind: 'episode' })
    for (const path of PLEX_CACHED_PATHS) expect((await setup.fetch(path)).status).toBe(200)
    for (const path of PLEX_CACHED_PATHS) expect((await setup.fetch(path)).headers.get('x-cache')).toBe('HIT')

    const response = await setup.fetch(
      '/api/plex/validate',
      jsonInit('POST', { url: `${sim2.url}/`, token: SECOND_TOKEN }),
    )
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual({
      valid: true,
      message: expect.stringContaining('Second Sim'),
      server_name: 'Second Sim',
    })

    const { caches } = setup.runtime
    for (const name of [
      'plex_activities',
      'plex_sessions',
      'plex_stats_live',
      'plex_recent_media',
      'plex_libraries',
      'plex_users_count',
    ]) {
      expect({ name, entries: caches.get(name)!.stats().entries }).toEqual({ name, entries: 0 })
    }
    setup.sim.control.resetCounts()
    sim2.control.resetCounts()
    for (const path of PLEX_CACHED_PATHS.filter((p) => p !== '/api/plex/users/count')) {
      expect({ path, cache: (await setup.fetch(path)).headers.get('x-cache') }).toEqual({ path, cache: 'MISS' })
    }
    // The old server is asked nothing; plex.tv (played by the first simulator) is asked for the
    // sharing plex_stats and plex_recent_media keep for viewers. It does not know the new server:
    // the users count asked the new server's identity, and plex.tv answered 404 for it.
    expect(setup.sim.control.requestCounts()).toEqual({ '/api/servers/:id/shared_servers': 1 })
    expect(sim2.control.requestCounts()['/identity']).toBe(1)
    expect((await setup.fetch('/api/plex/users/count')).status).toBe(502)

    const sessions = await json(await setup.fetch('/api/plex/sessions'))
    expect(sessions.sessions.map((s: { session_id: string; media: { title: string } }) => s.session_id)).toEqual([
      newSession.sessionKey,
    ])
    expect(sessions.sessions[0].media.thumb.startsWith(sim2.url)).toBe(true)
    expect(await json(await setup.fetch('/api/plex/config'))).toEqual({
      url: sim2.url,
      server_name: 'Second Sim',
      token_configured: true,
    })
    expect((await json(await setup.fetch('/api/plex/stats/live'))).server_name).toBe('Second Sim')
  })

  it('answers valid: false (200) for a token the server rejects, and keeps the current server and caches', async () => {
    setup = await startService({ plex: true })
    const sim2 = await secondSim()
    await setup.fetch('/api/plex/sessions')

    const response = await setup.fetch(
      '/api/plex/validate',
      jsonInit('POST', { url: sim2.url, token: 'wrong-token-123' }),
    )
    expect(response.status).toBe(200)
    const body = await json(response)
    expect(body).toEqual({
      valid: false,
      message: expect.stringMatching(/401.*token is not accepted/),
      server_name: null,
    })
    expect(body.message).not.toContain('wrong-token-123')
    expect((await json(await setup.fetch('/api/plex/config'))).url).toBe(setup.sim.url)
    expect((await setup.fetch('/api/plex/sessions')).headers.get('x-cache')).toBe('HIT')
  })

  it('answers /config with a 400 naming the problem when the server cannot be reached or rejects the token', async () => {
    setup = await startService({ plex: true })
    const sim2 = await secondSim()
    await sim2.control.setFault({ mode: 'outage' })
    const unreachable = await setup.fetch('/api/plex/config', jsonInit('POST', { url: sim2.url, token: SECOND_TOKEN }))
    expect(unreachable.status).toBe(400)
    const body = await json(unreachable)
    expect(body.detail).toMatch(/^No Plex server answered at http:\/\/127\.0\.0\.1:\d+: check the address and port/)
    expect(body.message).toBe(body.detail)

    await sim2.control.clearFaults()
    const rejected = await setup.fetch('/api/plex/config', jsonInit('POST', { url: sim2.url, token: 'nope-nope-nope' }))
    expect(rejected.status).toBe(400)
    expect((await json(rejected)).detail).toMatch(/401/)

    const saved = await setup.fetch('/api/plex/config', jsonInit('POST', { url: sim2.url, token: SECOND_TOKEN }))
    expect(saved.status).toBe(200)
    const savedBody = await json(saved)
    expect(savedBody).toMatchObject({ success: true, url: sim2.url, server_name: 'Second Sim', token_configured: true })
    expect(JSON.stringify(savedBody)).not.toContain(SECOND_TOKEN)
  })

  it('rejects bodies that are not a URL and a token with a 400 naming the field', async () => {
    setup = await startService({ plex: true })
    const cases: Array<[unknown, RegExp]> = [
      [{ url: 'ftp://plex.local:32400', token: 'abc123' }, /body field "url".*not an http\(s\) URL/],
      [{ url: 'not a url', token: 'abc123' }, /body field "url".*not a URL/],
      [{ url: 'http://user:pw@plex.local:32400', token: 'abc123' }, /body field "url".*user name or password/],
      [{ url: 'http://plex.local:32400', token: '   ' }, /body field "token".*empty/],
      [{ url: 'http://plex.local:32400' }, /body field "token"/],
      [{ url: 'http://plex.local:32400', token: 5 }, /body field "token"/],
      [{ url: 'http://plex.local:32400', token: 'abc123', extra: 1 }, /Unknown body field "extra"/],
    ]
    for (const [body, detail] of cases) {
      for (const path of ['/api/plex/config', '/api/plex/validate']) {
        const response = await setup.fetch(path, jsonInit('POST', body))
        expect({ path, body, status: response.status }).toEqual({ path, body, status: 400 })
        expect((await json(response)).detail).toMatch(detail)
      }
    }
    expect(setup.sim.control.totalRequests()).toBe(0)
  })

  it('drops a token pasted into the URL, and never logs or returns a token', async () => {
    setup = await startService({ plex: true })
    const sim2 = await secondSim()
    const response = await setup.fetch(
      '/api/plex/config',
      jsonInit('POST', { url: `${sim2.url}/?X-Plex-Token=${SECOND_TOKEN}`, token: SECOND_TOKEN }),
    )
    expect(response.status).toBe(200)
    const texts = [
      JSON.stringify(await json(response)),
      JSON.stringify(await json(await setup.fetch('/api/plex/config'))),
    ]
    expect((await json(await setup.fetch('/api/plex/config'))).url).toBe(sim2.url)
    for (const path of PLEX_CACHED_PATHS) {
      const r = await setup.fetch(path)
      texts.push(await r.text(), JSON.stringify([...r.headers]))
    }
    for (const text of texts) {
      expect(text).not.toContain(SECOND_TOKEN)
      expect(text).not.toContain(PLEX_TOKEN)
    }
    const log = setup.logLines.join('\n')
    expect(log).not.toContain(SECOND_TOKEN)
    expect(log).not.toContain(PLEX_TOKEN)
  })

  it('keeps the server saved through the API across restarts, over PLEX_SERVER_URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'komandorr-plex-config-'))
    closers.push(() => rmSync(dir, { recursive: true, force: true }))
    const databasePath = join(dir, 'komandorr.db')
    setup = await startService({ plex: true, env: { DATABASE_PATH: databasePath } })
    const sim2 = await secondSim()
    expect(
      (await setup.fetch('/api/plex/config', jsonInit('POST', { url: sim2.url, token: SECOND_TOKEN }))).status,
    ).toBe(200)
    await setup.close()

    const restarted: TestApp = await startService({
      env: {
        DATABASE_PATH: databasePath,
        PLEX_SERVER_URL: setup.sim.url,
        PLEX_SERVER_TOKEN: PLEX_TOKEN,
      },
    })
    closers.push(() => restarted.close())
    expect(await json(await fetch(`${restarted.url}/api/plex/config`))).toEqual({
      url: sim2.url,
      server_name: 'Second Sim',
      token_configured: true,
    })
    sim2.control.resetCounts()
    expect((await fetch(`${restarted.url}/api/plex/sessions`)).status).toBe(200)
    expect(countOf(sim2, '/status/sessions')).toBe(1)
    const closeSim = setup.sim.close.bind(setup.sim)
    setup = undefined
    await closeSim()
  })

  it('gives up on a server that does not answer within the probe timeout', async () => {
    setup = await startService({ plex: true })
    const sim2 = await secondSim()
    await sim2.control.setFault({ mode: 'hang' })
    const { plex, repos, clock } = setup.runtime
    const service = new PlexConfigService({
      plex,
      settings: repos.settings,
      clock,
      defaultServerName: 'Plex Server',
      probeTimeoutMs: 300,
    })
    const started = Date.now()
    expect(await service.save({ url: sim2.url, token: SECOND_TOKEN })).toEqual({
      valid: false,
      message: `No Plex server answered at ${sim2.url}: check the address and port (Plex listens on 32400) and that the server is running`,
    })
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(plex.settings?.url).toBe(setup.sim.url)
    await sim2.control.clearFaults()
  })
})

describe('checking a candidate Plex server is no port scanner', () => {
  it('answers one message for a closed port, a non-HTTP port, and HTTP servers that are not Plex; the log says which', async () => {
    const t = await startService()
    closers.push(() => t.close())
    const bannerSockets = new Set<import('node:net').Socket>()
    const banner = createTcpServer((socket) => {
      bannerSockets.add(socket)
      socket.on('error', () => undefined)
      socket.end('SSH-2.0-OpenSSH_9.6\r\n')
    })
    await new Promise<void>((resolve) => banner.listen(0, '127.0.0.1', resolve))
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of bannerSockets) socket.destroy()
          banner.close(() => resolve())
        }),
    )
    const html = await answering(200)
    const missing = await answering(404)
    closers.push(
      () => html.close(),
      () => missing.close(),
    )
    const urls = [
      await closedPortUrl(),
      `http://127.0.0.1:${(banner.address() as AddressInfo).port}`,
      html.url,
      missing.url,
    ]

    const messages: string[] = []
    for (const url of urls) {
      for (const path of ['/api/plex/validate', '/api/plex/config']) {
        const response = await fetch(`${t.url}${path}`, jsonInit('POST', { url, token: 'any-token-1' }))
        const body = await json(response)
        expect(response.status).toBe(path === '/api/plex/validate' ? 200 : 400)
        messages.push(body.message.replace(url, 'URL'))
      }
    }
    expect(new Set(messages)).toEqual(
      new Set([
        'No Plex server answered at URL: check the address and port (Plex listens on 32400) and that the server is running',
      ]),
    )
    const reasons = t.logLines
      .filter((line) => line.includes('the Plex server check failed'))
      .map((line) => (JSON.parse(line) as { why: string }).why)
    expect(new Set(reasons).size).toBeGreaterThan(1)
  })

  it('checks at most 10 servers a minute: the 11th gets 429 with Retry-After and detail, and makes no request', async () => {
    const t = await startService()
    closers.push(() => t.close())
    const target = await answering(404)
    closers.push(() => target.close())
    for (let i = 0; i < 10; i++)
      expect(
        (await fetch(`${t.url}/api/plex/validate`, jsonInit('POST', { url: target.url, token: 'any-token-1' }))).status,
      ).toBe(200)
    const limited = await fetch(`${t.url}/api/plex/config`, jsonInit('POST', { url: target.url, token: 'any-token-1' }))
    expect(limited.status).toBe(429)
    const retryAfter = Number(limited.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect((await json(limited)).detail).toMatch(/10 Plex servers were checked in the last minute/)
    expect(target.requests).toBe(10)
  })
})
