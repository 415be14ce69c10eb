import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PLEX_SETTINGS_KEY } from '../../src/features/plex/plex-config.js'
import { startSimulator, type RunningSimulator } from '../../sim/index.js'
import { countOf, type TestApp, startService } from '../support/api-harness.js'
import { instanceEnv, PrivateRedis, uniquePrefix } from './helpers.js'
import { eventually, sleep } from '../support/eventually.js'

const FIRST_TOKEN = 'first-sim-token-31337'
const SECOND_TOKEN = 'second-sim-token-27182'
const THIRD_TOKEN = 'third-sim-token-16180'

/** Two instances (in-process runtimes) on one private Redis and one SQLite file, two Plex servers. */
describe('Plex settings saved on one instance reach the others', () => {
  let redis: PrivateRedis
  let sim1: RunningSimulator
  let sim2: RunningSimulator
  /** Started by the resubscribe test; kept up to the end, since an instance may still switch to it after that test. */
  let sim3: RunningSimulator | undefined
  let dir: string
  let a: TestApp
  let b: TestApp
  let prefix: string
  /** Everything published on any channel of the prefix while the tests ran. */
  const published: string[] = []
  let listener: Redis

  beforeAll(async () => {
    redis = await PrivateRedis.start()
    ;[sim1, sim2] = await Promise.all([
      startSimulator({
        port: 0,
        token: FIRST_TOKEN,
        seed: 3,
        items: 100,
        speed: 0,
        liveSessions: false,
        serverName: 'First Sim',
      }),
      startSimulator({
        port: 0,
        token: SECOND_TOKEN,
        seed: 4,
        items: 100,
        speed: 0,
        liveSessions: false,
        serverName: 'Second Sim',
      }),
    ])
    sim1.control.startSession({ kind: 'movie' })
    sim2.control.startSession({ kind: 'episode' })
    sim2.control.startSession({ kind: 'episode' })
    dir = mkdtempSync(join(tmpdir(), 'komandorr-plex-config-'))
    prefix = uniquePrefix('plex-config')
    listener = new Redis(redis.url)
    listener.on('pmessage', (_pattern: string, channel: string, message: string) =>
      published.push(`${channel} ${message}`),
    )
    await listener.psubscribe(`${prefix}*`)
    const env = instanceEnv(
      { redisUrl: redis.url, keyPrefix: prefix, dir, plexUrl: sim1.url, plexToken: FIRST_TOKEN },
      { CACHE_SESSIONS_TTL: '120' },
    )
    // The first creates the database; the second opens it.
    a = await startService({ env })
    b = await startService({ env })
    await eventually(
      'both instances are subscribed',
      () => a.runtime.redis!.bus.subscribed && b.runtime.redis!.bus.subscribed,
      10_000,
    )
  }, 30_000)

  afterAll(async () => {
    listener?.disconnect()
    await Promise.all([a?.close(), b?.close()])
    await Promise.all([sim1?.close(), sim2?.close(), sim3?.close()])
    await redis?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const sessions = async (app: TestApp) => {
    const response = await fetch(`${app.url}/api/plex/sessions`)
    expect(response.status).toBe(200)
    return { cache: response.headers.get('x-cache'), body: (await response.json()) as { sessions: unknown[] } }
  }
  const configOf = async (app: TestApp) =>
    (await (await fetch(`${app.url}/api/plex/config`)).json()) as { url: string; server_name: string }
  const save = (app: TestApp, url: string, token: string) =>
    fetch(`${app.url}/api/plex/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url, token }),
    })
  const resetCounts = () => {
    sim1.control.resetCounts()
    sim2.control.resetCounts()
  }

  it("a config POSTed on instance A switches instance B: B's next sessions read misses and is served by the new server", async () => {
    expect((await sessions(b)).cache).toBe('MISS')
    expect((await sessions(b)).body.sessions).toHaveLength(1)
    resetCounts()

    const response = await save(a, sim2.url, SECOND_TOKEN)
    expect(response.status).toBe(200)
    const tookMs = await eventually('b uses the second server', async () => (await configOf(b)).url === sim2.url, 2_000)
    expect(tookMs).toBeLessThan(2_000)
    expect(await configOf(b)).toEqual({ url: sim2.url, server_name: 'Second Sim', token_configured: true })

    const next = await sessions(b)
    expect(next.cache).toBe('MISS')
    expect(next.body.sessions).toHaveLength(2)
    expect(countOf(sim2, '/status/sessions')).toBe(1)
    expect(countOf(sim1, '/status/sessions')).toBe(0)
    expect((await sessions(b)).cache).toBe('HIT')
  })

  it('saving the same settings again changes nothing on the other instance: its cached sessions stay a hit', async () => {
    expect((await sessions(b)).cache).toBe('HIT')
    resetCounts()
    const before = published.length
    expect((await save(a, sim2.url, SECOND_TOKEN)).status).toBe(200)
    await eventually(
      'the announcement went out',
      () => published.slice(before).some((line) => line.startsWith(`${prefix}topics `)),
      2_000,
    )
    // B hears it on the same channel at about the same time; give it a moment to act on it.
    await sleep(200)
    expect((await sessions(b)).cache).toBe('HIT')
    expect(countOf(sim2, '/status/sessions')).toBe(0)
  })

  it('an instance whose subscription was lost re-reads the saved settings once it is back', async () => {
    // The row changes without an announcement, as if B's subscription had been down meanwhile.
    const third = await startSimulator({
      port: 0,
      token: THIRD_TOKEN,
      seed: 5,
      items: 100,
      speed: 0,
      liveSessions: false,
      serverName: 'Third Sim',
    })
    sim3 = third
    await a.runtime.repos.settings.set(
      PLEX_SETTINGS_KEY,
      { url: third.url, token: THIRD_TOKEN, server_name: 'Third Sim' },
      Date.now(),
    )
    await sleep(200)
    expect((await configOf(b)).url, 'nothing was announced').toBe(sim2.url)

    const admin = new Redis(redis.url)
    try {
      await admin.client('KILL', 'TYPE', 'pubsub')
    } finally {
      admin.disconnect()
    }
    await eventually(
      'b resubscribed and switched to the third server',
      async () => (await configOf(b)).url === third.url,
      5_000,
    )
    third.control.resetCounts()
    expect((await sessions(b)).cache).toBe('MISS')
    expect(countOf(third, '/status/sessions')).toBe(1)
  })

  it('no Plex token is in any Redis key, value or published message, nor in either log', async () => {
    const raw = new Redis(redis.url)
    try {
      // The previous test's resubscribe may still be switching an instance (which clears the
      // Plex caches in Redis): read until the sessions are cached there again.
      await eventually('the sessions are cached in Redis', async () => {
        await sessions(b)
        return (await raw.exists(`${prefix}plex:sessions`)) === 1
      })
      const keys = await raw.keys('*')
      expect(keys.length).toBeGreaterThan(0)
      const stored: string[] = [...keys]
      for (const key of keys) {
        const type = await raw.type(key)
        if (type === 'string') stored.push((await raw.getBuffer(key))!.toString('latin1'))
        else if (type === 'hash') stored.push(JSON.stringify(await raw.hgetall(key)))
        // 'none': the key expired between KEYS and TYPE (a lock lease, a stats hash).
        else if (type !== 'none') stored.push(`${key}: unexpected type ${type}`)
      }
      expect(keys, 'the scan sees the cached sessions').toContain(`${prefix}plex:sessions`)
      expect(published.some((line) => line.startsWith(`${prefix}topics `))).toBe(true)
      for (const text of [...stored, ...published, ...a.logLines, ...b.logLines]) {
        for (const token of [FIRST_TOKEN, SECOND_TOKEN, THIRD_TOKEN]) expect(text).not.toContain(token)
      }
    } finally {
      raw.disconnect()
    }
  })
})
