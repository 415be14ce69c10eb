// plex_images through the real HTTP path, with the plex-recorded PMS as the image host (it
// answers image paths with generated PNGs and counts requests per path).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { ManualClock } from '../../src/cache/index.js'
import { describeRecorded, startRecordedServer, type RecordedServer } from '../plex/helpers/recorded-server.js'
import { json, type TestApp, startService } from '../support/api-harness.js'

const TOKEN = 'recorded-image-token-5150'
const POSTER = '/library/metadata/101/thumb/1700000000'
const AVATAR_LIKE = '/library/metadata/102/thumb'
const DAY = 86_400_000

const proxied = (url: string, extra = '') => `/api/plex/proxy/image?url=${encodeURIComponent(url)}${extra}`

describeRecorded('plex_images through GET /api/plex/proxy/image (plex-recorded as PMS)', () => {
  let plex: RecordedServer
  const apps: TestApp[] = []
  const dirs: string[] = []
  const mounts: string[] = []

  beforeAll(async () => {
    plex = await startRecordedServer(TOKEN)
  })
  afterAll(async () => {
    await plex.close()
  })
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close()
    for (const mount of mounts.splice(0)) execFileSync('umount', [mount])
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
    await plex.control('up')
    await plex.resetCounts()
  })

  function tempDir(): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'image-cache-'))
    dirs.push(dir)
    return dir
  }

  async function start(env: Record<string, string> = {}, clock?: ManualClock): Promise<TestApp> {
    const app = await startService({
      env: { PLEX_SERVER_URL: plex.url, PLEX_SERVER_TOKEN: TOKEN, LOG_LEVEL: 'info', ...env },
      runtime: { clock },
    })
    apps.push(app)
    return app
  }

  const get = (app: TestApp, url: string, init?: RequestInit) => fetch(app.url + url, init)

  /** An app on `dir` that loads POSTER, writes it to disk and stops; Plex's counts start again. */
  async function cachedOnDiskThenStopped(dir: string): Promise<Buffer> {
    const first = await start({ IMAGE_CACHE_DIR: dir })
    const original = Buffer.from(await (await get(first, proxied(POSTER))).arrayBuffer())
    await settled(first)
    await first.close()
    apps.splice(apps.indexOf(first), 1)
    await plex.resetCounts()
    return original
  }
  const imageCalls = async (pathName: string) => (await plex.counts())[pathName] ?? 0
  const settled = (app: TestApp) => app.runtime.plexImages.cache.settled()

  it('100 concurrent cold requests for one poster make one Plex request and get the same bytes', async () => {
    const app = await start({ IMAGE_CACHE_DIR: tempDir() })
    const responses = await Promise.all(Array.from({ length: 100 }, () => get(app, proxied(POSTER))))
    const bodies = await Promise.all(responses.map(async (r) => Buffer.from(await r.arrayBuffer())))
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(200))
    expect(new Set(bodies.map((b) => b.toString('base64'))).size).toBe(1)
    expect(await imageCalls(POSTER)).toBe(1)
    const stats = (await json(await get(app, '/api/plex/cache/stats'))).caches.find(
      (c: { name: string }) => c.name === 'plex_images',
    )
    expect(stats).toMatchObject({ loads: 1, misses: 1, entries: 1, disk_enabled: true })
    expect(stats.coalesced + stats.hits).toBe(99)
  })

  it('a versioned poster is immutable: strong ETag, a year of max-age, 304 on If-None-Match', async () => {
    const app = await start()
    const first = await get(app, proxied(POSTER))
    const etag = first.headers.get('etag')!
    expect(first.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/)
    expect(first.headers.get('content-type')).toBe('image/png')
    const again = await get(app, proxied(POSTER), { headers: { 'If-None-Match': etag } })
    expect(again.status).toBe(304)
    expect((await again.arrayBuffer()).byteLength).toBe(0)
    expect(again.headers.get('x-cache')).toBe('HIT')
    const unversioned = await get(app, proxied(AVATAR_LIKE))
    expect(unversioned.headers.get('cache-control')).toBe('public, max-age=86400')
  })

  it('after a restart the image comes from disk with no Plex request', async () => {
    const dir = tempDir()
    const original = await cachedOnDiskThenStopped(dir)
    const second = await start({ IMAGE_CACHE_DIR: dir })
    const response = await get(second, proxied(POSTER))
    expect(response.headers.get('x-cache')).toBe('HIT')
    expect(Buffer.from(await response.arrayBuffer()).equals(original)).toBe(true)
    expect(await imageCalls(POSTER)).toBe(0)
  })

  it('a torn file is a miss: one Plex request, a good image, then hits', async () => {
    const dir = tempDir()
    const original = await cachedOnDiskThenStopped(dir)
    const [file] = readdirSync(dir)
    truncateSync(path.join(dir, file!), Math.floor(readFileSync(path.join(dir, file!)).length / 2))

    const second = await start({ IMAGE_CACHE_DIR: dir })
    const response = await get(second, proxied(POSTER))
    expect(response.status).toBe(200)
    expect(response.headers.get('x-cache')).toBe('MISS')
    expect(Buffer.from(await response.arrayBuffer()).equals(original)).toBe(true)
    expect((await get(second, proxied(POSTER))).headers.get('x-cache')).toBe('HIT')
    expect(await imageCalls(POSTER)).toBe(1)
  })

  it('a read-only cache folder: memory only, one warning, every browser request answered', async () => {
    const dir = tempDir()
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir])
    mounts.push(dir)
    const app = await start({ IMAGE_CACHE_DIR: dir })
    for (const url of [POSTER, AVATAR_LIKE, POSTER, '/library/metadata/103/art/1700000001']) {
      const response = await get(app, proxied(url))
      expect({ url, status: response.status }).toEqual({ url, status: 200 })
    }
    await settled(app)
    const warnings = app.logLines.filter((line) => line.includes('memory only'))
    expect(warnings).toHaveLength(1)
    expect(JSON.parse(warnings[0]!).level).toBe(40)
    expect(await imageCalls(POSTER)).toBe(1)
    const stats = (await json(await get(app, '/api/plex/cache/stats'))).caches.find(
      (c: { name: string }) => c.name === 'plex_images',
    )
    expect(stats).toMatchObject({ disk_enabled: false, disk_disabled_reason: 'EROFS', entries: 3 })
  })

  it('?width=&height= go to PMS’s photo transcoder, cached per size; bad sizes are a 400', async () => {
    const app = await start()
    const small = await get(app, proxied(POSTER, '&width=100&height=150'))
    expect(small.status).toBe(200)
    expect(small.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    await get(app, proxied(POSTER, '&width=100&height=150'))
    const large = await get(app, proxied(POSTER, '&width=300&height=450'))
    expect(Buffer.from(await large.arrayBuffer()).equals(Buffer.from(await small.arrayBuffer()))).toBe(false)
    expect(await imageCalls('/photo/:/transcode')).toBe(2)
    expect(await imageCalls(POSTER)).toBe(0)

    for (const extra of ['&width=100', '&width=0&height=10', '&width=99999&height=10', '&width=abc&height=10']) {
      const response = await get(app, proxied(POSTER, extra))
      expect({ extra, status: response.status }).toEqual({ extra, status: 400 })
      expect((await json(response)).detail).toMatch(/width|height/)
    }
    const avatar = await get(app, proxied('https://plex.tv/users/abc/avatar', '&width=10&height=10'))
    expect(avatar.status).toBe(400)
    expect((await json(avatar)).detail).toContain('Plex images only')
  })

  it('an image over IMAGE_MAX_BYTES is refused with a 502 naming the limit, and not cached', async () => {
    const app = await start({ IMAGE_MAX_BYTES: '1000' })
    for (let i = 0; i < 2; i++) {
      const response = await get(app, proxied(POSTER))
      expect(response.status).toBe(502)
      expect((await json(response)).detail).toContain('IMAGE_MAX_BYTES (1000 bytes)')
    }
    expect(await imageCalls(POSTER)).toBe(2)
  })

  it('an unversioned image is fresh for a day, then served stale while Plex is down', async () => {
    const clock = new ManualClock({ wallNow: Date.UTC(2026, 0, 1) })
    const app = await start({}, clock)
    const first = await get(app, proxied(AVATAR_LIKE))
    const body = Buffer.from(await first.arrayBuffer())
    await clock.advance(DAY - 1000)
    expect((await get(app, proxied(AVATAR_LIKE))).headers.get('x-cache')).toBe('HIT')
    await clock.advance(2000)
    await plex.control('down')
    const stale = await get(app, proxied(AVATAR_LIKE))
    expect(stale.status).toBe(200)
    expect(stale.headers.get('x-cache')).toBe('STALE')
    expect(Buffer.from(await stale.arrayBuffer()).equals(body)).toBe(true)
    expect(await imageCalls(AVATAR_LIKE)).toBe(2)
  })

  it('POST /api/plex/cache/clear empties both tiers; warm leaves images alone', async () => {
    const dir = tempDir()
    const app = await start({ IMAGE_CACHE_DIR: dir })
    await get(app, proxied(POSTER))
    await settled(app)
    expect(readdirSync(dir)).toHaveLength(1)
    const cleared = await json(await get(app, '/api/plex/cache/clear', { method: 'POST' }))
    expect(cleared.cleared).toContain('plex_images')
    expect(readdirSync(dir)).toEqual([])
    const warm = await json(await get(app, '/api/plex/cache/warm', { method: 'POST' }))
    expect(warm.warmed).toContain('plex_images')
    expect(await imageCalls(POSTER)).toBe(1)
    expect((await get(app, proxied(POSTER))).headers.get('x-cache')).toBe('MISS')
    expect(await imageCalls(POSTER)).toBe(2)
  })

  it('keys and logs never hold the token', async () => {
    const dir = tempDir()
    const app = await start({ IMAGE_CACHE_DIR: dir })
    await get(app, proxied(`${plex.url}${POSTER}?X-Plex-Token=${TOKEN}`))
    await settled(app)
    expect(readdirSync(dir).join(' ')).not.toContain(TOKEN)
    expect(readFileSync(path.join(dir, readdirSync(dir)[0]!)).includes(TOKEN)).toBe(false)
    expect(app.logLines.join('\n')).not.toContain(TOKEN)
  })
})
