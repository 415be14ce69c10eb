// The Redis layer: hit cost beside raw ioredis, compression on the service's real payloads, and
// the Plex calls of three instances against one under the same polling load.
// `npm run bench -- redis [--json]`: tables; with --json also one JSON object on the last line.
// Needs Redis at REDIS_URL or 127.0.0.1:6379 (keys under a random `bench:redis:` prefix, removed after).
import { randomBytes } from 'node:crypto'
import * as zlib from 'node:zlib'
import { Redis } from 'ioredis'
import { startSimulator } from '../sim/index.js'
import { createCacheRegistry, percentiles, type CacheRegistry } from '../src/cache/index.js'
import {
  createRedisLayer,
  DEFAULT_COMPRESSION,
  unlinkWithPrefix,
  type RedisLayer,
  type RedisSettings,
} from '../src/cache/redis/index.js'
import { loadConfig } from '../src/config.js'
import { CACHES } from '../src/features/caches/index.js'
import { buildApp } from '../src/http/app.js'
import { appDeps } from '../src/http/routes/index.js'
import { createRuntime } from '../src/runtime.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const MiB = 1024 * 1024
const HIT_OPS = 20_000
const BIG_HIT_OPS = 200
const CODEC_ROUNDS = 15
const POLL_MS = 250
const POLL_DURATION_MS = 8_000
const DASHBOARDS = 30

interface Payloads {
  /** GET /api/plex/watch-history, cut to ~1 MiB. */
  readonly history: string
  /** GET /api/plex/sessions with 12 sessions playing. */
  readonly sessions: string
}

/** The service's own answers, from the app in-process against the simulator. */
async function realPayloads(): Promise<Payloads> {
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
  for (let i = 0; i < 12; i++) sim.control.startSession()
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
    const sync = await app.inject({ method: 'POST', url: '/api/plex/watch-history/sync' })
    if (sync.statusCode !== 200) throw new Error(`watch-history sync answered ${sync.statusCode}: ${sync.body}`)
    const rows = (await app.inject({ url: '/api/plex/watch-history?limit=5000' })).json<unknown[]>()
    const history = cutToBytes(rows, MiB)
    const sessions = (await app.inject({ url: '/api/plex/sessions' })).body
    return { history, sessions }
  } finally {
    await app.close()
    await runtime.close()
    await sim.close()
  }
}

function cutToBytes(rows: unknown[], bytes: number): string {
  let size = 2
  let count = 0
  for (const row of rows) {
    size += Buffer.byteLength(JSON.stringify(row)) + 1
    if (size > bytes) break
    count++
  }
  return JSON.stringify(rows.slice(0, count))
}

// ---- compression ---------------------------------------------------------------------------

interface CodecRow {
  payload: string
  codec: string
  bytes: number
  packed: number
  ratio: number
  compress_us: number
  decompress_us: number
}

const CODECS: ReadonlyArray<{ name: string; pack: (b: Buffer) => Buffer; unpack: (b: Buffer) => Buffer }> = [
  { name: 'gzip 1', pack: (b) => zlib.gzipSync(b, { level: 1 }), unpack: (b) => zlib.gunzipSync(b) },
  { name: 'gzip 6', pack: (b) => zlib.gzipSync(b, { level: 6 }), unpack: (b) => zlib.gunzipSync(b) },
  { name: 'deflate 1', pack: (b) => zlib.deflateSync(b, { level: 1 }), unpack: (b) => zlib.inflateSync(b) },
  { name: 'deflate 6', pack: (b) => zlib.deflateSync(b, { level: 6 }), unpack: (b) => zlib.inflateSync(b) },
  ...[1, 4, 11].map((quality) => ({
    name: `brotli ${quality}`,
    pack: (b: Buffer) =>
      zlib.brotliCompressSync(b, {
        params: {
          [zlib.constants.BROTLI_PARAM_QUALITY]: quality,
          [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: b.length,
        },
      }),
    unpack: (b: Buffer) => zlib.brotliDecompressSync(b),
  })),
]

function medianUs(run: () => void, rounds: number): number {
  const samples: number[] = []
  for (let i = 0; i < rounds; i++) {
    const started = performance.now()
    run()
    samples.push((performance.now() - started) * 1000)
  }
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)]!
}

function measureCodecs(payloads: Payloads): CodecRow[] {
  const rows: CodecRow[] = []
  for (const [payload, json] of Object.entries(payloads)) {
    const input = Buffer.from(json)
    for (const codec of CODECS) {
      const packed = codec.pack(input)
      if (!codec.unpack(packed).equals(input))
        throw new Error(`${codec.name} did not round-trip the ${payload} payload`)
      // brotli 11 takes seconds per MiB: fewer rounds.
      const rounds = codec.name === 'brotli 11' ? 3 : CODEC_ROUNDS
      rows.push({
        payload,
        codec: codec.name,
        bytes: input.length,
        packed: packed.length,
        ratio: round(input.length / packed.length, 2),
        compress_us: Math.round(medianUs(() => codec.pack(input), rounds)),
        decompress_us: Math.round(medianUs(() => codec.unpack(packed), CODEC_ROUNDS)),
      })
    }
  }
  return rows
}

// ---- hit latency ---------------------------------------------------------------------------

interface HitResult {
  payload: string
  ops: number
  raw_p50_us: number
  raw_p99_us: number
  layer_p50_us: number
  layer_p99_us: number
  p50_ratio: number
  breaker_state: string
}

function settingsFor(prefix: string): RedisSettings {
  return { url: REDIS_URL, host: '127.0.0.1', port: 6379, db: 0, password: null, keyPrefix: prefix }
}

async function measureHits(
  layer: RedisLayer,
  raw: Redis,
  prefix: string,
  payload: string,
  json: string,
  ops: number,
): Promise<HitResult> {
  const key = `bench:${payload}`
  await layer.shared.set(key, { json, fetchedAt: Date.now() }, 600_000, 0)
  await raw.set(`${prefix}raw:${key}`, json, 'PX', 600_000)
  const rawTimes: number[] = []
  const layerTimes: number[] = []
  let sink = 0
  const warmup = Math.min(1_000, ops / 10)
  for (let i = 0; i < ops + warmup; i++) {
    // Interleaved, so that load on the machine hits both alike.
    let started = performance.now()
    const text = await raw.get(`${prefix}raw:${key}`)
    sink += (JSON.parse(text!) as unknown[]).length
    const rawUs = (performance.now() - started) * 1000
    started = performance.now()
    const hit = await layer.shared.get(key)
    sink += (JSON.parse(hit!.json) as unknown[]).length
    const layerUs = (performance.now() - started) * 1000
    if (i >= warmup) {
      rawTimes.push(rawUs)
      layerTimes.push(layerUs)
    }
  }
  if (sink === 0) throw new Error('nothing was read')
  const r = percentiles(rawTimes)!
  const l = percentiles(layerTimes)!
  return {
    payload,
    ops,
    raw_p50_us: round(r.p50, 1),
    raw_p99_us: round(r.p99, 1),
    layer_p50_us: round(l.p50, 1),
    layer_p99_us: round(l.p99, 1),
    p50_ratio: round(l.p50 / r.p50, 2),
    breaker_state: layer.breaker.state,
  }
}

// ---- Plex calls: 3 instances vs 1 ---------------------------------------------------------

interface PollingResult {
  instances: number
  loads: Record<string, number>
  total_loads: number
  reads: number
  read_errors: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * `instances` registries in this process, each on its own Redis layer (its own connections),
 * with the same declarations and one counting loader (standing in for Plex, 50-80 ms per call);
 * 30 dashboards spread over them poll every cache every 250 ms for 8 s.
 */
async function pollingLoad(instances: number, prefix: string): Promise<PollingResult> {
  const loads: Record<string, number> = {}
  const upstream = async (name: string, ms: number) => {
    loads[name] = (loads[name] ?? 0) + 1
    await sleep(ms)
    return { name, at: Date.now() }
  }
  const layers: RedisLayer[] = []
  const registries: CacheRegistry[] = []
  const dashboards: Array<() => Promise<unknown>> = []
  for (let i = 0; i < instances; i++) {
    const layer = createRedisLayer(settingsFor(prefix))
    if (!(await layer.whenConnected(5_000))) throw new Error(`Redis at ${REDIS_URL} did not answer`)
    layers.push(layer)
    const registry = createCacheRegistry({ shared: layer.shared, coordinator: layer.coordinator, bus: layer.bus })
    registries.push(registry)
    const sessions = registry.define({
      name: 'plex_sessions',
      key: 'plex:sessions',
      ttlMs: 2_000,
      load: () => upstream('plex_sessions', 50),
    })
    const recent = registry.define({
      name: 'plex_recent_media',
      key: 'plex:recent_media',
      ttlMs: 3_000,
      load: () => upstream('plex_recent_media', 80),
    })
    const history = registry.define({
      name: 'watch_history',
      key: 'plex:watch_history',
      ttlMs: 5_000,
      keyOf: (limit: number) => `limit=${limit}`,
      load: (limit) => upstream(`watch_history:${limit}`, 60),
    })
    dashboards.push(() => Promise.all([sessions.read(), recent.read(), history.read(500), history.read(100)]))
  }
  let reads = 0
  let readErrors = 0
  const until = performance.now() + POLL_DURATION_MS
  await Promise.all(
    Array.from({ length: DASHBOARDS }, async (_, d) => {
      await sleep((d * POLL_MS) / DASHBOARDS)
      while (performance.now() < until) {
        try {
          await dashboards[d % instances]!()
        } catch {
          readErrors++
        }
        reads++
        await sleep(POLL_MS)
      }
    }),
  )
  for (const registry of registries) registry.close()
  await Promise.all(layers.map((layer) => layer.close()))
  return {
    instances,
    loads,
    total_loads: Object.values(loads).reduce((a, b) => a + b, 0),
    reads,
    read_errors: readErrors,
  }
}

// ---- main ----------------------------------------------------------------------------------

function round(n: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

export async function main(args: string[]): Promise<void> {
  const json = args.includes('--json')
  const prefix = `bench:redis:${randomBytes(4).toString('hex')}:`
  const raw = new Redis(REDIS_URL)
  const layer = createRedisLayer(settingsFor(prefix))
  try {
    if (!(await layer.whenConnected(5_000))) throw new Error(`Redis at ${REDIS_URL} did not answer`)
    const payloads = await realPayloads()
    console.log(`payloads: watch history ${payloads.history.length} bytes, sessions ${payloads.sessions.length} bytes`)

    const codecs = measureCodecs(payloads)
    console.log(
      '\n| payload | codec | bytes | packed | ratio | compress µs | decompress µs |\n|---|---|---:|---:|---:|---:|---:|',
    )
    for (const c of codecs)
      console.log(
        `| ${c.payload} | ${c.codec} | ${c.bytes} | ${c.packed} | ${c.ratio} | ${c.compress_us} | ${c.decompress_us} |`,
      )

    const hits = [
      await measureHits(layer, raw, prefix, 'sessions', payloads.sessions, HIT_OPS),
      await measureHits(layer, raw, prefix, 'history', payloads.history, BIG_HIT_OPS),
    ]
    console.log(
      `\nlayer stores with ${DEFAULT_COMPRESSION.codec} ${DEFAULT_COMPRESSION.level} from ${DEFAULT_COMPRESSION.thresholdBytes} bytes; raw is an uncompressed GET\n` +
        '| payload | ops | raw GET+parse p50 µs | p99 µs | layer get+parse p50 µs | p99 µs | p50 ratio | breaker |\n|---|---:|---:|---:|---:|---:|---:|---|',
    )
    for (const h of hits) {
      console.log(
        `| ${h.payload} | ${h.ops} | ${h.raw_p50_us} | ${h.raw_p99_us} | ${h.layer_p50_us} | ${h.layer_p99_us} | ${h.p50_ratio} | ${h.breaker_state} |`,
      )
    }

    const one = await pollingLoad(1, `${prefix}poll1:`)
    const three = await pollingLoad(3, `${prefix}poll3:`)
    console.log(
      '\n| instances | loader calls (total) | per cache | dashboard reads | read errors |\n|---:|---:|---|---:|---:|',
    )
    for (const p of [one, three]) {
      console.log(
        `| ${p.instances} | ${p.total_loads} | ${Object.entries(p.loads)
          .sort()
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')} | ${p.reads} | ${p.read_errors} |`,
      )
    }

    const sessionsHit = hits[0]!
    const result = {
      payload_history_bytes: payloads.history.length,
      payload_sessions_bytes: payloads.sessions.length,
      codecs,
      hits,
      hit_ratio_target_met: sessionsHit.p50_ratio <= 1.3,
      polling: { one, three },
      plex_calls_equal: three.total_loads <= one.total_loads,
      polling_mode: 'registries in one process, each on its own Redis connections, one counting loader',
    }
    if (json) console.log(JSON.stringify(result))
  } finally {
    await unlinkWithPrefix(raw, prefix).catch(() => 0)
    await layer.close()
    raw.disconnect()
  }
}
