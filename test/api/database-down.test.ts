// PostgreSQL out of reach, at start and while running: the service listens, says so once, serves
// what it can (cached values stale) and answers 503 with a detail for the rest.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createThrowawayDatabase, type ThrowawayDatabase } from '../support/databases.js'
import { basic, json, jsonInit, type PlexApp, startService } from '../support/api-harness.js'
import { eventually, sleep } from '../support/eventually.js'
import { ADMIN, AUTH_ENV } from '../support/viewer-isolation.js'

const PASSWORD = 'db-password-never-logged'

/** A TCP door to the real PostgreSQL that the test opens and shuts: the network between them. */
class Door {
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  constructor(readonly port: number) {}

  static async onFreePort(): Promise<Door> {
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const { port } = probe.address() as AddressInfo
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    return new Door(port)
  }

  async open(): Promise<void> {
    this.server = createServer((socket) => {
      const upstream = connect(5432, '127.0.0.1')
      for (const s of [socket, upstream]) {
        this.sockets.add(s)
        s.on('close', () => this.sockets.delete(s))
        s.on('error', () => undefined)
      }
      socket.pipe(upstream).pipe(socket)
    })
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve))
  }

  async shut(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
    this.server = undefined
  }

  url(database: ThrowawayDatabase): string {
    const url = new URL(database.url)
    url.port = String(this.port)
    url.password = PASSWORD // trust auth ignores it; no log line may show it
    return url.toString()
  }
}

const health = async (setup: PlexApp) => json(await setup.fetch('/api/health'))
const ready = async (setup: PlexApp) => {
  const response = await setup.fetch('/api/health/ready')
  return { status: response.status, body: await json(response) }
}

describe('PostgreSQL out of reach', () => {
  let database: ThrowawayDatabase
  beforeAll(async () => {
    database = await createThrowawayDatabase()
  })
  afterAll(() => database?.drop())

  it('at start: listens, says so in one line, serves Plex, answers 503 for what needs the database; ready once it answers', async () => {
    const door = await Door.onFreePort()
    const setup = await startService({ plex: true, env: { DATABASE_URL: door.url(database) } })
    try {
      const lines = setup.logLines.filter((line) => line.includes('is not reachable'))
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain(`postgres://postgres:***@127.0.0.1:${door.port}/`)
      expect(await health(setup)).toMatchObject({ status: 'degraded', database: 'connecting' })
      expect((await setup.fetch('/api/plex/sessions')).status).toBe(200)

      for (const [path, init] of [
        ['/api/services/', undefined],
        ['/api/plex/watch-history', undefined],
        [
          '/api/traffic/update',
          jsonInit('POST', { service_id: 's', bandwidth_up: 0, bandwidth_down: 0, total_up: 0, total_down: 0 }),
        ],
      ] as const) {
        const response = await setup.fetch(path, init)
        expect(response.status, path).toBe(503)
        expect((await json(response)).detail, path).toMatch(/database is not reachable/)
      }
      const notReady = await ready(setup)
      expect(notReady.status).toBe(503)
      expect(notReady.body).toEqual({
        status: 'not_ready',
        detail: expect.stringMatching(
          /^Not ready: PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/\w+ is not reachable \(.*ECONNREFUSED.*\); retrying with backoff$/,
        ),
      })
      expect((await setup.fetch('/api/health/live')).status).toBe(200)

      // The first retry is 1 s after the failed start.
      await door.open()
      await eventually('ready once PostgreSQL answers', async () => (await ready(setup)).status === 200, 10_000, 100)
      expect(await ready(setup)).toEqual({ status: 200, body: { status: 'ready' } })
      expect((await setup.fetch('/api/services/')).status).toBe(200)
      expect(setup.logLines.join('\n')).not.toContain(PASSWORD)
    } finally {
      await setup.close()
      await door.shut()
    }
  })

  it('while running: cached history is served stale, writes answer 503, and all is back once it answers', async () => {
    const door = await Door.onFreePort()
    await door.open()
    const setup = await startService({
      plex: true,
      env: { DATABASE_URL: door.url(database), CACHE_WATCH_HISTORY_TTL: '1' },
      sim: { historyRows: 300 },
    })
    try {
      expect(await json(await setup.fetch('/api/plex/watch-history/sync', { method: 'POST' }))).toMatchObject({
        success: true,
        added: 300,
      })
      const fresh = await setup.fetch('/api/plex/watch-history?limit=20')
      expect(fresh.status).toBe(200)
      const rows = await json(fresh)
      expect(rows).toHaveLength(20)

      await door.shut()
      await sleep(1_100) // past the TTL: the next read reloads, and the reload fails
      const stale = await setup.fetch('/api/plex/watch-history?limit=20')
      expect(stale.status).toBe(200)
      expect(stale.headers.get('x-cache')).toBe('STALE')
      expect(await json(stale)).toEqual(rows)
      expect(await health(setup)).toMatchObject({ status: 'degraded', database: 'unavailable' })
      const notReady = await ready(setup)
      expect(notReady.status).toBe(503)
      expect(notReady.body.detail).toMatch(/^Not ready: the database does not answer: .*ECONNREFUSED/)
      const write = await setup.fetch(
        '/api/services/',
        jsonInit('POST', { name: 'NAS', url: 'http://127.0.0.1:9', type: 'server' }),
      )
      expect(write.status).toBe(503)
      expect((await json(write)).detail).toMatch(/database is not reachable/)

      await door.open()
      expect(await health(setup)).toMatchObject({ status: 'healthy', database: 'ok' })
      expect(await ready(setup)).toEqual({ status: 200, body: { status: 'ready' } })
      expect(await json(await setup.fetch('/api/plex/watch-history/sync', { method: 'POST' }))).toMatchObject({
        success: true,
        added: 0,
      })
      expect(setup.logLines.join('\n')).not.toContain(PASSWORD)
    } finally {
      await setup.close()
      await door.shut()
    }
  })

  it('viewers on PostgreSQL: a signed-in viewer keeps their own view while it is away; a new sign-in is a 503', async () => {
    const door = await Door.onFreePort()
    await door.open()
    const setup = await startService({
      plex: true,
      env: { ...AUTH_ENV, DATABASE_URL: door.url(database) },
      sim: { sharedUsers: 3 },
    })
    const admin = basic(ADMIN.user, ADMIN.password)
    try {
      const [ann, bob] = setup.sim.control.state().accounts.filter((account) => account.id > 1)
      for (const [username, account] of [
        ['ann', ann!.id],
        ['bob', bob!.id],
      ] as const) {
        const made = await setup.fetch(
          '/api/viewers',
          jsonInit('POST', { username, password: `${username} password 1`, plex_account_id: account }, admin),
        )
        expect(made.status).toBe(201)
      }
      setup.sim.control.startSession({ accountId: ann!.id })
      setup.sim.control.startSession({ accountId: bob!.id })
      const annHeaders = basic('ann', 'ann password 1')
      const before = await json(await setup.fetch('/api/plex/sessions', { headers: annHeaders }))
      expect(before.sessions.map((s: { user: { id: string } }) => s.user.id)).toEqual([String(ann!.id)])

      await door.shut()
      const during = await setup.fetch('/api/plex/sessions', { headers: annHeaders })
      expect(during.status).toBe(200)
      expect((await json(during)).sessions.map((s: { user: { id: string } }) => s.user.id)).toEqual([String(ann!.id)])
      const newcomer = await setup.fetch('/api/plex/sessions', { headers: basic('bob', 'bob password 1') })
      expect(newcomer.status).toBe(503)
      expect((await json(newcomer)).detail).toMatch(/database/)

      await door.open()
      await eventually(
        'bob signs in once PostgreSQL answers',
        async () =>
          (await setup.fetch('/api/plex/sessions', { headers: basic('bob', 'bob password 1') })).status === 200,
        10_000,
        100,
      )
      expect(setup.logLines.join('\n')).not.toMatch(/ann password 1|bob password 1/)
    } finally {
      await setup.close()
      await door.shut()
    }
  })
})
