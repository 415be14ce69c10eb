// Live caches end to end (issue 10): how fresh the dashboards are and what it costs Plex, with
// the notification stream on and off; how long the first reads wait after a start and after an
// idle spell, with Plex answering in 2 s (and after /api/health/ready first answers 200); and a cache hit beside a bare Fastify route and plain
// node:http. `npm run bench -- live [--quick] [--json] [--cost-seconds N]`; see docs/benchmarks.md.
import os from 'node:os'
import type { AddressInfo } from 'node:net'
import { loadConfig } from '../src/config.js'
import { CACHES } from '../src/features/caches/index.js'
import { buildApp } from '../src/http/app.js'
import { appDeps } from '../src/http/routes/index.js'
import { createLogger } from '../src/logger.js'
import { createRuntime } from '../src/runtime.js'
import { startSimulator, type Fault, type RunningSimulator } from '../sim/index.js'
import { mulberry32 } from '../sim/random.js'
import { compareHitPath, type HitPathResult } from './api/hitpath.js'
import { difference, PLEX_CALLS_OF_CACHE, totalOf, type Counts } from './api/plex-calls.js'
import { KOMANDORR_POLLING, pollLikeKomandorr, type PolledEndpoint } from './api/polling.js'
import { printHitPath } from './api/report.js'
import { startService, type ServiceUnderTest } from './api/service.js'
import { JumpClock } from './live/jump-clock.js'
import { CHANGE_KINDS, measureFreshness, percentile, type FreshnessResult } from './live/freshness.js'

const TOKEN = 'bench-live-token'
/** The simulator refuses the notification stream: the service runs on TTLs alone. */
const NO_EVENTS: readonly Fault[] = [
  { endpoint: '/:/websockets/notifications', status: 503 },
  { endpoint: '/:/eventsource/notifications', status: 503 },
]
const SLOW_PLEX_MS = 2_000
const IDLE_MINUTES = 10
/** The live Plex widgets a dashboard opens, read at once by each dashboard after the idle spell. */
const DASHBOARD_PATHS = ['/api/plex/sessions', '/api/plex/activities', '/api/plex/stats/live', '/api/plex/users/count']

interface Args {
  quick: boolean
  json: boolean
  roundsOn: number
  roundsOff: number
  costSecondsOn: number
  costSecondsOff: number
  dashboards: number
  streams: number
  hitSeconds: number
}

function parseArgs(args: string[]): Args {
  const quick = args.includes('--quick')
  // The window with events: the live values are refetched 120 s after their fetch, so a window
  // shorter than that may hold none of those calls.
  const costAt = args.indexOf('--cost-seconds')
  const costSeconds = costAt >= 0 ? Number(args[costAt + 1]) : undefined
  if (costSeconds !== undefined && !(costSeconds > 0)) throw new Error('--cost-seconds wants a number of seconds')
  return {
    quick,
    json: args.includes('--json'),
    roundsOn: quick ? 4 : 10,
    roundsOff: quick ? 2 : 4,
    costSecondsOn: costSeconds ?? (quick ? 30 : 60),
    costSecondsOff: quick ? 20 : 30,
    dashboards: 100,
    streams: 10,
    hitSeconds: quick ? 4 : 10,
  }
}

const progress = (message: string) => process.stderr.write(`[bench live] ${message}\n`)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const ms = (v: number) => (Number.isNaN(v) ? '–' : v < 10 ? v.toFixed(1) : v.toFixed(0))

async function withSim<T>(
  options: Parameters<typeof startSimulator>[0],
  run: (sim: RunningSimulator) => Promise<T>,
): Promise<T> {
  const sim = await startSimulator({ port: 0, token: TOKEN, seed: 11, items: 1_000, liveSessions: false, ...options })
  try {
    return await run(sim)
  } finally {
    await sim.close()
  }
}

async function withService<T>(
  sim: RunningSimulator,
  run: (service: ServiceUnderTest) => Promise<T>,
  env: Record<string, string> = {},
): Promise<T> {
  const service = await startService({ plexUrl: sim.url, plexToken: TOKEN, env })
  try {
    return await run(service)
  } finally {
    await service.stop()
  }
}

async function noEvents(sim: RunningSimulator): Promise<void> {
  for (const fault of NO_EVENTS) await sim.control.setFault(fault)
}

// 1. Freshness lag, events on and off.
async function freshness(a: Args, events: boolean): Promise<FreshnessResult> {
  return withSim({ speed: 0 }, async (sim) => {
    if (!events) await noEvents(sim)
    return withService(sim, async (service) => {
      await sleep(1_500) // the warm-up, and the stream's first connect
      return measureFreshness(sim, service.url, events ? a.roundsOn : a.roundsOff, mulberry32(events ? 1 : 2))
    })
  })
}

// 2. Plex calls a minute with N streams playing and M dashboards polling.
interface Cost {
  seconds: number
  perMinute: number
  liveCachesPerMinute: number
  byEndpoint: Counts
}

async function cost(a: Args, events: boolean): Promise<Cost> {
  return withSim({ speed: 1 }, async (sim) => {
    if (!events) await noEvents(sim)
    for (let i = 0; i < a.streams; i++)
      sim.control.startSession({
        kind: (['movie', 'episode', 'track'] as const)[i % 3],
        transcode: i % 4 === 0,
        viewOffset: 0,
      })
    sim.control.startActivity({ type: 'library.update.section', ticks: 1_000 })
    return withService(sim, async (service) => {
      await sleep(3_000)
      const seconds = events ? a.costSecondsOn : a.costSecondsOff
      const before = sim.control.requestCounts()
      await pollLikeKomandorr({ baseUrl: service.url, clients: a.dashboards, durationMs: seconds * 1000, seed: 3 })
      const calls = difference(sim.control.requestCounts(), before)
      delete calls['/:/websockets/notifications']
      delete calls['/:/eventsource/notifications']
      const live = PLEX_CALLS_OF_CACHE.plex_sessions!(calls) + PLEX_CALLS_OF_CACHE.plex_activities!(calls)
      return {
        seconds,
        perMinute: (totalOf(calls) * 60) / seconds,
        liveCachesPerMinute: (live * 60) / seconds,
        byEndpoint: calls,
      }
    })
  })
}

// 3a. Reads in the first 10 s after start: 30 dashboards polling from the moment it listens.
interface StartLatency {
  reads: number
  p50: number
  p99: number
  max: number
  warmedAfterMs: number | null
  readsAfterWarmUp: number
  p99AfterWarmUp: number
  maxAfterWarmUp: number
}

const FAST_POLLING: readonly PolledEndpoint[] = KOMANDORR_POLLING.map((endpoint) => ({ ...endpoint, everyMs: 1_000 }))

/** A fresh service against a simulator with two streams playing and Plex answering in SLOW_PLEX_MS; stopped after `use`. */
async function freshServiceOnSlowPlex<T>(
  use: (service: Awaited<ReturnType<typeof startService>>) => Promise<T>,
): Promise<T> {
  return withSim({ speed: 1, latencyMs: SLOW_PLEX_MS }, async (sim) => {
    sim.control.startSession({ kind: 'episode', transcode: true })
    sim.control.startSession({ kind: 'movie' })
    const service = await startService({ plexUrl: sim.url, plexToken: TOKEN })
    try {
      return await use(service)
    } finally {
      await service.stop()
    }
  })
}

async function afterStart(): Promise<StartLatency> {
  return freshServiceOnSlowPlex(async (service) => {
    const listening = performance.now()
    let warmedAt: number | null = null
    service.process.child.stdout!.on('data', (chunk: Buffer) => {
      if (warmedAt === null && chunk.toString().includes('Plex caches warmed')) warmedAt = performance.now()
    })
    const run = await pollLikeKomandorr({
      baseUrl: service.url,
      clients: 30,
      durationMs: 10_000,
      seed: 5,
      endpoints: FAST_POLLING,
    })
    const all = run.samples.map((s) => s.latencyMs)
    const warmed = warmedAt as number | null
    const after =
      warmed === null ? [] : run.samples.filter((s) => run.startedAt + s.sentAtMs >= warmed).map((s) => s.latencyMs)
    return {
      reads: all.length,
      p50: percentile(all, 50),
      p99: percentile(all, 99),
      max: Math.max(...all),
      warmedAfterMs: warmed === null ? null : warmed - listening,
      readsAfterWarmUp: after.length,
      p99AfterWarmUp: percentile(after, 99),
      maxAfterWarmUp: after.length === 0 ? NaN : Math.max(...after),
    }
  })
}

// 3a'. The orchestrator's view: no dashboard until /api/health/ready first answers 200, then the
// same 30 dashboards for 10 s, on a fresh service.
interface ReadyLatency {
  readyAfterMs: number
  notReadyAnswers: number
  reads: number
  p50: number
  p99: number
  max: number
}

const READY_PROBE_EVERY_MS = 50

async function afterReady(): Promise<ReadyLatency> {
  return freshServiceOnSlowPlex(async (service) => {
    const listening = performance.now()
    let notReadyAnswers = 0
    for (;;) {
      const response = await fetch(`${service.url}/api/health/ready`)
      await response.text()
      if (response.status === 200) break
      notReadyAnswers++
      if (performance.now() - listening > 60_000)
        throw new Error(`/api/health/ready still answers ${response.status} 60 s after listening`)
      await sleep(READY_PROBE_EVERY_MS)
    }
    const readyAfterMs = performance.now() - listening
    const run = await pollLikeKomandorr({
      baseUrl: service.url,
      clients: 30,
      durationMs: 10_000,
      seed: 5,
      endpoints: FAST_POLLING,
    })
    const all = run.samples.map((s) => s.latencyMs)
    return {
      readyAfterMs,
      notReadyAnswers,
      reads: all.length,
      p50: percentile(all, 50),
      p99: percentile(all, 99),
      max: Math.max(...all),
    }
  })
}

// 3b. The first reads after 10 idle minutes, on the service's own clock (in process, JumpClock).
interface IdleLatency {
  reads: number
  p50: number
  p99: number
  max: number
  xCache: Record<string, number>
}

async function afterIdle(events: boolean): Promise<IdleLatency> {
  return withSim({ speed: 0 }, async (sim) => {
    if (!events) await noEvents(sim)
    sim.control.startSession({ kind: 'episode', transcode: true })
    sim.control.startSession({ kind: 'movie' })
    sim.control.startActivity({ type: 'library.update.section', ticks: 1_000 })
    await sim.control.setFault({ endpoint: '*', latencyMs: SLOW_PLEX_MS })
    const clock = new JumpClock()
    const config = loadConfig(
      {
        DATABASE_PATH: ':memory:',
        LOG_LEVEL: 'warn',
        PLEX_SERVER_URL: sim.url,
        PLEX_SERVER_TOKEN: TOKEN,
        PLEX_TV_URL: sim.url,
      },
      CACHES,
    )
    const runtime = await createRuntime(config, { clock, logger: createLogger({ level: 'warn' }) })
    const app = buildApp(appDeps(runtime))
    try {
      await app.listen({ host: '127.0.0.1', port: 0 })
      const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
      runtime.startJobs()
      await runtime.warmStart.settled
      for (const path of DASHBOARD_PATHS) await fetch(url + path).then((r) => r.text()) // a dashboard was open
      await sleep(3_000)
      // Idle: Plex answers at once meanwhile, so that loads the jumps start land in their step.
      await sim.control.clearFaults()
      if (!events) await noEvents(sim)
      await clock.jump(IDLE_MINUTES * 60_000, 1_000)
      await sim.control.setFault({ endpoint: '*', latencyMs: SLOW_PLEX_MS })
      const samples: Array<{ latencyMs: number; xCache: string }> = []
      await Promise.all(
        Array.from({ length: 30 }, () =>
          Promise.all(
            DASHBOARD_PATHS.map(async (path) => {
              const sent = performance.now()
              const response = await fetch(url + path)
              await response.text()
              samples.push({ latencyMs: performance.now() - sent, xCache: response.headers.get('x-cache') ?? '?' })
            }),
          ),
        ),
      )
      const latencies = samples.map((s) => s.latencyMs)
      const xCache: Record<string, number> = {}
      for (const s of samples) xCache[s.xCache] = (xCache[s.xCache] ?? 0) + 1
      return {
        reads: samples.length,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: Math.max(...latencies),
        xCache,
      }
    } finally {
      await app.close()
      await runtime.close()
    }
  })
}

// 4. The hit path, against a frozen simulator.
async function hitPath(a: Args): Promise<HitPathResult> {
  return withSim({ speed: 0 }, (sim) => {
    sim.control.startSession({ kind: 'episode', transcode: true })
    sim.control.startSession({ kind: 'movie' })
    return withService(sim, (service) => compareHitPath(service, { connections: 50, seconds: a.hitSeconds, rounds: 5 }))
  })
}

export async function main(argv: string[]): Promise<void> {
  const a = parseArgs(argv)
  const loadAtStart = os.loadavg()
  const startedAt = new Date()
  progress(`freshness: ${a.roundsOn} rounds with events, ${a.roundsOff} without`)
  const freshOn = await freshness(a, true)
  const freshOff = await freshness(a, false)
  progress(
    `Plex calls: ${a.streams} streams, ${a.dashboards} dashboards, ${a.costSecondsOn} s with events, ${a.costSecondsOff} s without`,
  )
  const costOn = await cost(a, true)
  const costOff = await cost(a, false)
  progress(
    `latency: the first 10 s after start, then the first reads after ${IDLE_MINUTES} idle minutes (Plex answering in ${SLOW_PLEX_MS} ms)`,
  )
  const start = await afterStart()
  const ready = await afterReady()
  const idleOn = await afterIdle(true)
  const idleOff = await afterIdle(false)
  progress('hit path')
  const hit = await hitPath(a)
  const loadAtEnd = os.loadavg()

  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' / ')
  console.log(
    `live bench: Node ${process.version}, ${os.cpus().length} cores, load average (1/5/15 min) ${load(loadAtStart)} at start, ${load(loadAtEnd)} at end; ${startedAt.toISOString()}`,
  )
  console.log()
  console.log(
    `Freshness lag, change in the simulator → the API shows it (ms; ${a.roundsOn} rounds with events, ${a.roundsOff} without; TTLs 10 s sessions, 5 s activities):`,
  )
  console.log('| change | events p50 | events p99 | TTL only p50 | TTL only p99 |')
  console.log('|---|---:|---:|---:|---:|')
  for (const kind of CHANGE_KINDS) {
    const on = freshOn.lags[kind]
    const off = freshOff.lags[kind]
    console.log(
      `| ${kind} | ${ms(percentile(on, 50))} | ${ms(percentile(on, 99))} | ${ms(percentile(off, 50))} | ${ms(percentile(off, 99))} |`,
    )
  }
  if (freshOn.missed + freshOff.missed > 0)
    console.log(`changes never shown within 30 s: ${freshOn.missed} with events, ${freshOff.missed} without`)
  console.log()
  console.log(
    `Plex calls a minute, ${a.streams} streams playing (simulator at speed 1: a report per player every 10 s), ${a.dashboards} dashboards polling:`,
  )
  console.log('| | all Plex calls /min | sessions + activities /min | measured over |')
  console.log('|---|---:|---:|---:|')
  console.log(
    `| events | ${costOn.perMinute.toFixed(1)} | ${costOn.liveCachesPerMinute.toFixed(1)} | ${costOn.seconds} s |`,
  )
  console.log(
    `| TTL only | ${costOff.perMinute.toFixed(1)} | ${costOff.liveCachesPerMinute.toFixed(1)} | ${costOff.seconds} s |`,
  )
  const endpoints = (c: Counts) =>
    Object.entries(c)
      .map(([e, n]) => `${e} ${n}`)
      .join(', ')
  console.log(`by endpoint, events: ${endpoints(costOn.byEndpoint)}; TTL only: ${endpoints(costOff.byEndpoint)}`)
  console.log()
  console.log(`Latency with Plex answering in ${SLOW_PLEX_MS} ms (ms):`)
  console.log('| reads | count | p50 | p99 | max | |')
  console.log('|---|---:|---:|---:|---:|---|')
  console.log(
    `| first 10 s after start, all (30 dashboards polling every 1 s) | ${start.reads} | ${ms(start.p50)} | ${ms(start.p99)} | ${ms(start.max)} | warm-up done ${start.warmedAfterMs === null ? '?' : (start.warmedAfterMs / 1000).toFixed(1)} s after listening |`,
  )
  console.log(
    `| first 10 s after start, sent after the warm-up | ${start.readsAfterWarmUp} | | ${ms(start.p99AfterWarmUp)} | ${ms(start.maxAfterWarmUp)} | |`,
  )
  console.log(
    `| first 10 s after /api/health/ready first answered 200 (fresh service, no reads before) | ${ready.reads} | ${ms(ready.p50)} | ${ms(ready.p99)} | ${ms(ready.max)} | ready ${(ready.readyAfterMs / 1000).toFixed(1)} s after listening (${ready.notReadyAnswers} × 503, probed every ${READY_PROBE_EVERY_MS} ms) |`,
  )
  const xc = (x: Record<string, number>) =>
    Object.entries(x)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')
  console.log(
    `| first reads after ${IDLE_MINUTES} idle minutes, events | ${idleOn.reads} | ${ms(idleOn.p50)} | ${ms(idleOn.p99)} | ${ms(idleOn.max)} | X-Cache ${xc(idleOn.xCache)} |`,
  )
  console.log(
    `| first reads after ${IDLE_MINUTES} idle minutes, TTL only | ${idleOff.reads} | ${ms(idleOff.p50)} | ${ms(idleOff.p99)} | ${ms(idleOff.max)} | X-Cache ${xc(idleOff.xCache)} |`,
  )
  console.log()
  printHitPath(hit)
  if (a.json) {
    const lagsOf = (f: FreshnessResult) =>
      Object.fromEntries(
        CHANGE_KINDS.map((kind) => [
          kind,
          { p50_ms: percentile(f.lags[kind], 50), p99_ms: percentile(f.lags[kind], 99), n: f.lags[kind].length },
        ]),
      )
    console.log(
      JSON.stringify({
        bench: 'live',
        load_average_start: loadAtStart,
        load_average_end: loadAtEnd,
        freshness: { events: lagsOf(freshOn), ttl_only: lagsOf(freshOff) },
        plex_calls_per_minute: {
          events: { all: costOn.perMinute, live_caches: costOn.liveCachesPerMinute },
          ttl_only: { all: costOff.perMinute, live_caches: costOff.liveCachesPerMinute },
        },
        after_start: start,
        after_ready: ready,
        after_idle: { events: idleOn, ttl_only: idleOff },
        hit_path: {
          service_rps: hit.service.requestsPerSec,
          bare_rps: hit.bare.requestsPerSec,
          node_http_rps: hit.nodeHttp.requestsPerSec,
          throughput_ratio: hit.throughputRatio,
          p99_ratio: hit.p99Ratio,
          cpu_ratio: hit.cpuRatio,
          node_http_throughput_ratio: hit.nodeHttpThroughputRatio,
        },
      }),
    )
  }
}
