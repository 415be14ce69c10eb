import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BlobCache, type BlobCacheDeclaration } from '../../src/cache/blob/index.js'
import { ManualClock, settle, type CacheLogger } from '../../src/cache/index.js'

const DAY = 86_400_000
const dirs: string[] = []
const mounts: string[] = []
afterEach(() => {
  for (const mount of mounts.splice(0)) execFileSync('umount', [mount])
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'blob-cache-'))
  dirs.push(dir)
  return dir
}

/** Mounts a tmpfs (read-only, or of `size` bytes) at a new folder; the tests run as root. */
function tmpfs(options: string): string {
  const dir = tempDir()
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir])
  mounts.push(dir)
  return dir
}

class Upstream {
  calls = 0
  failing: Error | undefined
  readonly load = async (id: string): Promise<{ body: Buffer; contentType: string }> => {
    this.calls++
    await settle()
    if (this.failing !== undefined) throw this.failing
    return { body: Buffer.from(`image ${id} `.repeat(100)), contentType: 'image/png' }
  }
}

function recordingLogger(): CacheLogger & { warnings: string[] } {
  const warnings: string[] = []
  const none = () => {}
  return { info: none, debug: none, error: none, warn: (_fields, message) => warnings.push(message), warnings }
}

function imageCache(options: {
  dir?: string
  upstream: Upstream
  clock?: ManualClock
  logger?: CacheLogger
  diskBytes?: number
  freshForMs?: number
}) {
  const declaration: BlobCacheDeclaration<string> = {
    name: 'images',
    key: 'images',
    keyOf: (id) => `k${id}`,
    load: options.upstream.load,
    freshForMs: () => options.freshForMs ?? Infinity,
    ttlMs: DAY,
    memory: { maxBytes: 100_000, eviction: 'w-tinylfu' },
    disk:
      options.dir === undefined
        ? undefined
        : { dir: options.dir, maxBytes: options.diskBytes ?? 1_000_000, eviction: 'lru' },
  }
  return new BlobCache(declaration, { clock: options.clock ?? new ManualClock(), logger: options.logger })
}

describe('a blob cache with a memory and a disk tier', () => {
  it('loads each key once for 100 concurrent cold readers, then answers from memory', async () => {
    const upstream = new Upstream()
    const cache = imageCache({ dir: tempDir(), upstream })
    const reads = await Promise.all(Array.from({ length: 100 }, () => cache.read('1')))
    expect(upstream.calls).toBe(1)
    expect(new Set(reads.map((read) => read.entry.etag)).size).toBe(1)
    expect(reads.filter((read) => read.outcome === 'miss')).toHaveLength(1)
    expect(await cache.read('1')).toMatchObject({ outcome: 'hit', tier: 'memory' })
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, coalesced: 99, loads: 1, entries: 1 })
  })

  it('survives a restart: a new cache on the same folder answers from disk without loading', async () => {
    const dir = tempDir()
    const upstream = new Upstream()
    const first = imageCache({ dir, upstream })
    const loaded = await first.read('1')
    await first.settled()
    expect(readdirSync(dir)).toEqual(['k1.blob'])

    const second = imageCache({ dir, upstream })
    const read = await second.read('1')
    expect(read).toMatchObject({ outcome: 'hit', tier: 'disk' })
    expect(read.entry.body.equals(loaded.entry.body)).toBe(true)
    expect(read.entry.etag).toBe(loaded.entry.etag)
    expect(upstream.calls).toBe(1)
    expect((await second.read('1')).tier).toBe('memory')
    expect(second.stats().disk).toMatchObject({ enabled: true, entries: 1, hits: 1 })
  })

  it('treats a torn file as a miss, loads a good image and replaces the file', async () => {
    const dir = tempDir()
    const upstream = new Upstream()
    const first = imageCache({ dir, upstream })
    const good = (await first.read('1')).entry
    await first.settled()
    const file = path.join(dir, 'k1.blob')
    truncateSync(file, readFileSync(file).length - 10)

    const second = imageCache({ dir, upstream })
    const read = await second.read('1')
    expect(read).toMatchObject({ outcome: 'miss', tier: 'upstream' })
    expect(read.entry.body.equals(good.body)).toBe(true)
    expect(upstream.calls).toBe(2)
    await second.settled()
    expect(readFileSync(file).length).toBeGreaterThan(good.bytes)
    expect((await imageCache({ dir, upstream }).read('1')).tier).toBe('disk')
  })

  it('a file that is not ours, or a leftover temp file, is ignored and removed', async () => {
    const dir = tempDir()
    writeFileSync(path.join(dir, 'k1.blob'), 'not a blob')
    writeFileSync(path.join(dir, '.tmp-k2-abc'), 'half written')
    const upstream = new Upstream()
    const cache = imageCache({ dir, upstream })
    expect((await cache.read('1')).outcome).toBe('miss')
    await cache.settled()
    expect(readdirSync(dir).sort()).toEqual(['k1.blob'])
  })

  it('reloads an entry past its freshness, and serves it stale when the loader fails', async () => {
    const clock = new ManualClock()
    const upstream = new Upstream()
    const cache = imageCache({ dir: tempDir(), upstream, clock, freshForMs: DAY })
    await cache.read('1')
    await clock.advance(DAY - 1)
    expect((await cache.read('1')).outcome).toBe('hit')
    await clock.advance(1)
    upstream.failing = new Error('Plex is down')
    const stale = await cache.read('1')
    expect(stale).toMatchObject({ outcome: 'stale', error: upstream.failing })
    upstream.failing = undefined
    expect(await cache.read('1')).toMatchObject({ outcome: 'miss' })
    expect(upstream.calls).toBe(3)
  })

  it('fails a read when the loader fails and nothing is kept, and keeps nothing', async () => {
    const upstream = new Upstream()
    upstream.failing = new Error('Plex is down')
    const cache = imageCache({ dir: tempDir(), upstream })
    await expect(cache.read('1')).rejects.toThrow('Plex is down')
    expect(cache.stats()).toMatchObject({ entries: 0, loadErrors: 1, lastError: 'Plex is down' })
  })

  it('clear empties both tiers, and a load that started before it writes nothing back', async () => {
    const dir = tempDir()
    const upstream = new Upstream()
    const cache = imageCache({ dir, upstream })
    await cache.read('1')
    await cache.settled()
    const pending = cache.read('2')
    await cache.clear()
    expect((await pending).outcome).toBe('miss')
    await cache.settled()
    expect(readdirSync(dir)).toEqual([])
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 })
    expect((await cache.read('1')).outcome).toBe('miss')
  })

  it('keeps the disk tier within its byte budget, removing the files it evicts', async () => {
    const dir = tempDir()
    const upstream = new Upstream()
    const cache = imageCache({ dir, upstream, diskBytes: 5_000 }) // about four entries of ~1.2 KB
    for (let i = 0; i < 10; i++) await cache.read(String(i))
    await cache.settled()
    const files = readdirSync(dir)
    const bytes = files.reduce((sum, name) => sum + readFileSync(path.join(dir, name)).length, 0)
    expect(files.length).toBeGreaterThan(0)
    expect(files.length).toBeLessThan(10)
    expect(bytes).toBeLessThanOrEqual(5_000)
    expect(cache.stats().disk).toMatchObject({ entries: files.length, bytes })
  })

  it('a read-only folder: memory only, one warning, every read answered', async () => {
    const logger = recordingLogger()
    const upstream = new Upstream()
    const cache = imageCache({ dir: tmpfs('ro,size=1m'), upstream, logger })
    for (const id of ['1', '2', '1']) expect((await cache.read(id)).entry.bytes).toBeGreaterThan(0)
    await cache.settled()
    expect(logger.warnings).toHaveLength(1)
    expect(logger.warnings[0]).toContain('memory only')
    expect(cache.stats().disk).toMatchObject({ enabled: false, disabledReason: 'EROFS' })
    expect(upstream.calls).toBe(2)
  })

  it('a full disk: the write fails, the tier turns off with one warning, reads go on from memory', async () => {
    const logger = recordingLogger()
    const upstream = new Upstream()
    const dir = tmpfs('size=8k')
    writeFileSync(path.join(dir, 'filler'), Buffer.alloc(4096))
    const cache = imageCache({ dir, upstream, logger })
    for (let i = 0; i < 6; i++) await cache.read(String(i))
    await cache.settled()
    expect(logger.warnings).toHaveLength(1)
    expect(cache.stats().disk).toMatchObject({ enabled: false, disabledReason: 'ENOSPC' })
    expect((await cache.read('5')).tier).toBe('memory')
    expect(readdirSync(dir).filter((name) => name.startsWith('.tmp-'))).toEqual([])
  })
})
