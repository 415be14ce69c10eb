// A hostile Plex and a greedy client, before and after the bounds of issue 9, in one run:
// 1. an endless body: what a plain `res.text()` buffers in 2 s, beside the capped client;
// 2. 13 MB of XML: the event-loop delay of the parse inline (as before) and on the worker;
// 3. 3.8 MB of deeply nested JSON: JSON.parse inline (as before) and the client's refusal;
// 4. 1,000 distinct watch-history queries of 5,000 rows: Redis keys and bytes unbounded
//    (as before) and with watch_history's declared bounds.
// `npm run bench -- hostile`. Needs Redis at REDIS_URL or 127.0.0.1:6379 (keys under a random
// `bench:hostile:` prefix, removed after).
import { randomBytes } from 'node:crypto'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Redis } from 'ioredis'
import { startSimulator } from '../sim/index.js'
import { createCacheRegistry } from '../src/cache/index.js'
import { createRedisLayer, unlinkWithPrefix } from '../src/cache/redis/index.js'
import { loadConfig } from '../src/config.js'
import { CACHES } from '../src/features/caches/index.js'
import { buildApp } from '../src/http/app.js'
import { appDeps } from '../src/http/routes/index.js'
import { decodeBody } from '../src/plex/decode.js'
import { createPlexClient } from '../src/plex/index.js'
import { parsePool } from '../src/plex/parse-pool.js'
import { xmlToPlexJson } from '../src/plex/xml.js'
import { createRuntime } from '../src/runtime.js'
import { deepJson, largeXml, startHostilePlex } from '../test/support/hostile-plex.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const MB = 1e6
const QUERIES = 1_000

interface Row {
  readonly case: string
  readonly before: string
  readonly after: string
}

/** Max event-loop delay (ms) and RSS growth (MB) while `work` runs. */
async function watch(
  work: () => Promise<unknown> | unknown,
): Promise<{ delayMs: number; rssMb: number; ms: number; result: unknown }> {
  const histogram = monitorEventLoopDelay({ resolution: 5 })
  const rss0 = process.memoryUsage.rss()
  let peak = rss0
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5)
  histogram.enable()
  const started = performance.now()
  // A turn first, so a synchronous `work` is seen by the histogram as the stop it is.
  await new Promise((resolve) => setTimeout(resolve, 20))
  let result: unknown
  try {
    result = await work()
  } catch (error) {
    result = error
  }
  await new Promise((resolve) => setTimeout(resolve, 20))
  const ms = performance.now() - started - 40
  histogram.disable()
  clearInterval(sampler)
  peak = Math.max(peak, process.memoryUsage.rss())
  return { delayMs: histogram.max / 1e6, rssMb: (peak - rss0) / MB, ms, result }
}

async function endlessBody(rows: Row[]): Promise<void> {
  const plex = await startHostilePlex('endless')
  try {
    const before = await watch(async () => {
      const res = await fetch(plex.url, { signal: AbortSignal.timeout(2_000) })
      const chunks: Uint8Array[] = []
      let bytes = 0
      try {
        for await (const chunk of res.body!) {
          chunks.push(chunk)
          bytes += chunk.byteLength
        }
      } catch {
        // the 2 s are over
      }
      return bytes
    })
    const after = await watch(() => createPlexClient({ baseUrl: plex.url, token: 't', timeoutMs: 30_000 }).identity())
    rows.push({
      case: 'endless body: buffered, RSS growth',
      before: `${((before.result as number) / MB).toFixed(0)} MB in 2 s (and growing), RSS +${before.rssMb.toFixed(0)} MB`,
      after: `cut at 64 MiB in ${(after.ms / 1000).toFixed(1)} s (${(after.result as Error).name}), RSS +${after.rssMb.toFixed(0)} MB`,
    })
  } finally {
    await plex.close()
  }
}

async function largeXmlParse(rows: Row[]): Promise<void> {
  const { xml } = largeXml(13)
  const bytes = Buffer.from(xml)
  await parsePool.decodeInWorker(Buffer.from('<MediaContainer/>'), 'text/xml') // the worker started
  const label = `${(bytes.length / MB).toFixed(1)} MB of XML: max event-loop delay (parse time)`
  const before = await watch(() => xmlToPlexJson(xml))
  // The body moves to the worker (its buffer is transferred): hand it a copy per run.
  const after = await watch(() => parsePool.decode(Buffer.from(bytes), 'text/xml'))
  // What the machine's load alone does to the loop over as long, doing nothing.
  const idle = await watch(() => new Promise((resolve) => setTimeout(resolve, after.ms)))
  rows.push({
    case: label,
    before: `${before.delayMs.toFixed(0)} ms (${before.ms.toFixed(0)} ms), inline`,
    after: `${after.delayMs.toFixed(0)} ms (${after.ms.toFixed(0)} ms), worker; an idle loop over as long: ${idle.delayMs.toFixed(0)} ms`,
  })
}

async function deepJsonParse(rows: Row[]): Promise<void> {
  const text = deepJson(1_900_000)
  const before = await watch(() => JSON.parse(text))
  const after = await watch(() => decodeBody(text, 'application/json'))
  rows.push({
    case: `${(text.length / MB).toFixed(1)} MB of nested JSON: RSS growth, max delay`,
    before: `+${before.rssMb.toFixed(0)} MB, ${before.delayMs.toFixed(0)} ms (JSON.parse)`,
    after: `+${after.rssMb.toFixed(0)} MB, ${after.delayMs.toFixed(0)} ms (refused: ${'problem' in (after.result as object) ? 'depth' : 'parsed'})`,
  })
}

/** GET /api/plex/watch-history?limit=5000 from the app against the simulator: a real 5,000-row page. */
async function historyPage(): Promise<unknown[]> {
  const token = 'bench-token-4242'
  const sim = await startSimulator({
    port: 0,
    token,
    seed: 7,
    items: 3_000,
    historyRows: 12_000,
    speed: 0,
    liveSessions: false,
  })
  const runtime = await createRuntime(
    loadConfig(
      {
        DATABASE_PATH: ':memory:',
        LOG_LEVEL: 'silent',
        PLEX_SERVER_URL: sim.url,
        PLEX_SERVER_TOKEN: token,
        PLEX_TV_URL: sim.url,
      },
      CACHES,
    ),
  )
  const app = buildApp(appDeps(runtime))
  try {
    await runtime.watchHistorySync.sync()
    return (await app.inject({ url: '/api/plex/watch-history?limit=5000' })).json<unknown[]>()
  } finally {
    await app.close()
    await runtime.close()
    await sim.close()
  }
}

async function keyedQueries(rows: Row[]): Promise<void> {
  const page = await historyPage()
  const raw = new Redis(REDIS_URL)
  const measure = async (label: string, bounds: { maxKeys: number; maxBytes: number; variantMaxStaleMs?: number }) => {
    const prefix = `bench:hostile:${randomBytes(4).toString('hex')}:`
    const layer = createRedisLayer({
      url: REDIS_URL,
      host: '127.0.0.1',
      port: 6379,
      db: 0,
      password: null,
      keyPrefix: prefix,
      timeoutMs: 1_000,
    })
    await layer.whenConnected(5_000)
    const registry = createCacheRegistry({ shared: layer.shared, maxBytes: 64 * 1024 * 1024 })
    const cache = registry.define<unknown[], number>({
      name: 'watch_history',
      key: 'plex:watch_history',
      keyOf: (offset) => `limit=5000:offset=${offset}`,
      warmArgs: [0],
      ttlMs: 300_000,
      ...bounds,
      load: () => page,
    })
    try {
      for (let offset = 0; offset < QUERIES; offset++) await cache.read(offset)
      let keys = 0
      let bytes = 0
      let lifeMs = 0
      let cursor = '0'
      do {
        const [next, found] = await raw.scan(cursor, 'MATCH', `${prefix}plex:watch_history:limit*`, 'COUNT', 1000)
        cursor = next
        for (const key of found) {
          keys++
          bytes += await raw.strlen(key)
          lifeMs = Math.max(lifeMs, await raw.pttl(key))
        }
      } while (cursor !== '0')
      const variantLife = await raw.pttl(`${prefix}plex:watch_history:limit=5000:offset=${QUERIES - 1}`)
      return `${keys} keys, ${(bytes / MB).toFixed(1)} MB; a variant lives ${(variantLife / 60_000).toFixed(0)} min (${label})`
    } finally {
      registry.close()
      await unlinkWithPrefix(raw, prefix)
      await layer.close()
    }
  }
  try {
    const before = await measure('unbounded', { maxKeys: 1_000_000, maxBytes: 2 ** 40, variantMaxStaleMs: 3_600_000 })
    const after = await measure('watch_history bounds', { maxKeys: 50, maxBytes: 24 * 1024 * 1024 })
    rows.push({ case: `${QUERIES} distinct watch-history?limit=5000 queries: Redis`, before, after })
  } finally {
    raw.disconnect()
  }
}

export async function main(args: string[]): Promise<void> {
  const rows: Row[] = []
  for (const phase of [endlessBody, deepJsonParse, largeXmlParse, keyedQueries]) {
    console.error(`hostile: ${phase.name}…`)
    await phase(rows)
  }
  await parsePool.close()
  console.log('| case | before (unbounded, inline) | after |')
  console.log('|---|---|---|')
  for (const row of rows) console.log(`| ${row.case} | ${row.before} | ${row.after} |`)
  if (args.includes('--json')) console.log(JSON.stringify(rows))
}
