import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WatchHistoryEntry } from '../../src/db/index.js'
import { HistoryPages } from '../../src/features/history/history-pages.js'
import { startService, type TestApp } from '../support/api-harness.js'

const ROWS = 20_000
const LIMIT = 5_000

/** A deterministic history of `count` plays, a few a minute. */
function entries(count: number): WatchHistoryEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    userId: i % 7,
    userName: `user${i % 7}`,
    type: i % 3 === 0 ? 'movie' : 'episode',
    title: `Title ${i}`,
    grandparentTitle: i % 3 === 0 ? null : `Show ${i % 40}`,
    parentIndex: 1,
    index: 1 + (i % 20),
    viewedAt: 1_700_000_000 + i * 20,
    duration: 2_700,
    viewOffset: 2_700,
    progress: 100,
    viewCount: 1,
    rating: 7.5,
    year: 2000 + (i % 25),
    thumb: `/library/metadata/${i}/thumb/1700000000`,
    contentRating: 'TV-14',
    studio: 'Studio',
    summary: 'A summary of a few dozen characters, as Plex has them.',
    genres: ['Drama'],
    ratingKey: String(i),
    historyKey: `/status/sessions/history/${i + 1}`,
    librarySectionId: '1',
  }))
}

interface Answer {
  status: number
  retryAfter: string | undefined
  xCache: string | undefined
  body: string
}

function get(t: TestApp, path: string, localAddress = '127.0.0.1'): Promise<Answer> {
  const { port } = new URL(t.url)
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          retryAfter: res.headers['retry-after'],
          xCache: res.headers['x-cache'] as string | undefined,
          body: Buffer.concat(chunks).toString(),
        }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

const page = (offset: number) => `/api/plex/watch-history?limit=${LIMIT}&offset=${offset}`

/** Starts an app over an SQLite file holding ROWS plays. */
async function appWithHistory(dir: string, env: Record<string, string> = {}): Promise<TestApp> {
  const t = await startService({
    env: { DATABASE_PATH: join(dir, `k-${Math.random()}.db`), LOG_LEVEL: 'info', ...env },
  })
  await t.runtime.repos.watchHistory.insertBatch(entries(ROWS))
  return t
}

describe('watch-history pages off the event loop', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'komandorr-fair-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("builds pages on the worker, the same bytes as inline, for a fraction of the event loop's time", async () => {
    const t = await appWithHistory(dir)
    try {
      const settings = t.runtime.config.database
      const source = t.runtime.database
      const repo = t.runtime.repos.watchHistory
      const onWorker = new HistoryPages({ source, repo, settings })
      const inline = new HistoryPages({ source, repo, settings: { ...settings, path: ':memory:' } })
      expect([onWorker.offLoop, inline.offLoop]).toEqual([true, false])
      await onWorker.page({ limit: 1 }, undefined) // the worker started
      // The event loop's busy time while four pages are built (waiting in epoll is not busy):
      // unlike its delay, it does not count the time the OS gave the process's core to others.
      const busy = async (pages: HistoryPages) => {
        const before = performance.eventLoopUtilization()
        const built = []
        for (const offset of [0, 5_000, 10_000, 15_000])
          built.push(await pages.page({ limit: LIMIT, offset }, undefined))
        return { ms: performance.eventLoopUtilization(before).active, built }
      }
      const inlineRun = await busy(inline)
      const workerRun = await busy(onWorker)
      expect(workerRun.built.map((p) => [p.etag, p.bytes])).toEqual(inlineRun.built.map((p) => [p.etag, p.bytes]))
      expect(workerRun.built[0]!.json).toBe(inlineRun.built[0]!.json)
      expect(JSON.parse(workerRun.built[3]!.json)).toHaveLength(LIMIT)
      expect(
        workerRun.ms,
        `event loop busy: worker ${workerRun.ms.toFixed(1)} ms, inline ${inlineRun.ms.toFixed(1)} ms`,
      ).toBeLessThan(inlineRun.ms / 2)
      await onWorker.close()
      // Through the route: the service's own pages come from its worker, with an ETag of their JSON.
      const answer = await get(t, page(5_000))
      expect(answer.status).toBe(200)
      expect(answer.body).toBe(workerRun.built[1]!.json)
      expect(t.runtime.cacheDeps.historyPages.offLoop).toBe(true)
    } finally {
      await t.close()
    }
  }, 120_000)

  it('refuses a client past HEAVY_QUERIES_PER_CLIENT with a 429 and Retry-After, serving others and hits meanwhile', async () => {
    const t = await appWithHistory(dir, { HEAVY_QUERIES_PER_CLIENT: '2', HEAVY_QUERIES_MAX: '10' })
    try {
      expect((await get(t, page(0))).status).toBe(200)
      const [a, b, c, other, hit] = await Promise.all([
        get(t, page(5_000)),
        get(t, page(10_000)),
        get(t, page(15_000)),
        get(t, page(1_000), '127.0.0.2'),
        get(t, page(0)),
      ])
      const mine = [a, b, c]
      expect(mine.map((x) => x.status).sort()).toEqual([200, 200, 429])
      const refused = mine.find((x) => x.status === 429)!
      expect(refused.retryAfter).toBe('1')
      expect(JSON.parse(refused.body).detail).toContain('HEAVY_QUERIES_PER_CLIENT')
      expect(other.status).toBe(200)
      expect([hit.status, hit.xCache]).toEqual([200, 'HIT'])
      // The slots are given back when the loads end.
      const again = await Promise.all([get(t, page(2_000)), get(t, page(3_000))])
      expect(again.map((x) => x.status)).toEqual([200, 200])
    } finally {
      await t.close()
    }
  }, 120_000)

  it('refuses past HEAVY_QUERIES_MAX for all clients together', async () => {
    const t = await appWithHistory(dir, { HEAVY_QUERIES_PER_CLIENT: '10', HEAVY_QUERIES_MAX: '2' })
    try {
      const answers = await Promise.all([0, 5_000, 10_000].map((offset, i) => get(t, page(offset), `127.0.0.${i + 1}`)))
      expect(answers.map((x) => x.status).sort()).toEqual([200, 200, 429])
      expect(JSON.parse(answers.find((x) => x.status === 429)!.body).detail).toContain('HEAVY_QUERIES_MAX')
    } finally {
      await t.close()
    }
  }, 120_000)
})
