// The service end to end, as Komandorr's dashboards use it: N browser tabs polling the Plex
// widgets against a Plex (the simulator) as slow as Komandorr's "before" numbers, then
// silence; Plex calls before (no cache) and after; and a cache hit at full speed beside a bare
// Fastify route. `npm run bench -- api [--clients N] [--poll-seconds S] [--idle-seconds S]
// [--quick] [--frozen-plex] [--json]`, or only the hit comparison with `--hit-only
// [--hit-rounds N] [--cpu-prof DIR]`; see docs/benchmarks.md.
import os from 'node:os'
import path from 'node:path'
import { startSimulator, type Fault, type RunningSimulator } from '../sim/index.js'
import { compareHitPath, compareHitPathFresh, type HitPathResult } from './api/hitpath.js'
import { compareMetricsOnOff, measureScrapeCost, printMetricsCost } from './api/metrics-cost.js'
import { startPassThrough } from './api/passthrough.js'
import { PlexCallTimeline, totalOf, type Counts } from './api/plex-calls.js'
import { KOMANDORR_POLLING, pollLikeKomandorr, type PollRun } from './api/polling.js'
import { endpointRows, hitVerdicts, printHitPath, printReport, verdicts, type IdleSplit } from './api/report.js'
import { cacheStats, startService, type CacheStatsRow, type ServiceUnderTest } from './api/service.js'

const TOKEN = 'bench-api-token'
const SIM_ITEMS = 1_000
/** CACHE_WARM_IDLE, set explicitly (it is also the default) so the split below matches it. */
const IDLE_WINDOW_SECONDS = 60
/** A load the idle window still allowed may issue its Plex calls a little after it ends. */
const WINDOW_GRACE_MS = 2_000

/**
 * Komandorr's "before" upstream times, as simulator latency: activities 5 s, watch history
 * 2.5 s, statistics 4 s. Live statistics wait on `/accounts` and the section totals in
 * parallel (after the quick `/library/sections`): 4 s on both makes one load take 4 s.
 */
export const KOMANDORR_UPSTREAM: readonly Fault[] = [
  { endpoint: '/activities', latencyMs: 5_000 },
  { endpoint: '/status/sessions/history/all', latencyMs: 2_500 },
  { endpoint: '/accounts', latencyMs: 4_000 },
  { endpoint: '/library/sections/:id/all', latencyMs: 4_000 },
]

interface Args {
  clients: number
  pollSeconds: number
  idleSeconds: number
  baselineSeconds: number
  hitSeconds: number
  hitConnections: number
  hitRounds: number
  /** Only the hit comparison, against a frozen simulator without latency faults. */
  hitOnly: boolean
  seed: number
  /** Simulator clock at speed 0: no session or activity changes, so no push invalidations. */
  frozenPlex: boolean
  quick: boolean
  json: boolean
  /** With --hit-only: the service runs under `node --cpu-prof`, its profile written to this folder on exit. */
  cpuProfDir: string | undefined
}

function parseArgs(args: string[]): Args {
  const quick = args.includes('--quick')
  const hitOnly = args.includes('--hit-only')
  const flag = (name: string, fallback: number, min = 1): number => {
    const i = args.indexOf(name)
    if (i < 0) return fallback
    const n = Number(args[i + 1])
    if (!Number.isFinite(n) || n < min) throw new Error(`${name} needs a number ≥ ${min}, got "${args[i + 1] ?? ''}"`)
    return n
  }
  return {
    clients: flag('--clients', quick ? 20 : 100),
    pollSeconds: flag('--poll-seconds', quick ? 20 : 60),
    // Past the service's 60 s idle window (and the 2 s grace), so the idle target can be judged.
    idleSeconds: flag('--idle-seconds', quick ? 70 : 75, 0),
    baselineSeconds: flag('--baseline-seconds', 10, 0),
    hitSeconds: flag('--hit-seconds', quick ? 4 : hitOnly ? 20 : 10, 0),
    hitConnections: flag('--hit-connections', 50),
    hitRounds: flag('--hit-rounds', hitOnly ? 10 : 5),
    hitOnly,
    seed: flag('--seed', 1, 0),
    frozenPlex: args.includes('--frozen-plex'),
    quick,
    json: args.includes('--json'),
    cpuProfDir: args.includes('--cpu-prof') ? args[args.indexOf('--cpu-prof') + 1] : undefined,
  }
}

const sleepUntil = (at: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())))
const round = (v: number | null, digits = 2) => (v === null ? null : Number(v.toFixed(digits)))
const progress = (message: string) => process.stderr.write(`[bench api] ${message}\n`)

/** The same polling against a pass-through that sends every request to Plex. */
async function measureWithoutCache(sim: RunningSimulator, a: Args): Promise<{ run: PollRun; plexCalls: Counts }> {
  const passThrough = await startPassThrough(sim.url, TOKEN)
  try {
    sim.control.resetCounts()
    const run = await pollLikeKomandorr({
      baseUrl: passThrough.url,
      clients: a.clients,
      durationMs: a.baselineSeconds * 1000,
      seed: a.seed,
    })
    return { run, plexCalls: sim.control.requestCounts() }
  } finally {
    await passThrough.close()
  }
}

/** Reads each endpoint once, all at once, like a dashboard that just opened. */
async function openDashboard(service: ServiceUnderTest) {
  return Promise.all(
    KOMANDORR_POLLING.map(async (endpoint) => {
      const started = performance.now()
      const res = await fetch(service.url + endpoint.path)
      await res.text()
      if (!res.ok) throw new Error(`${endpoint.path} answered ${res.status} on the first read`)
      return {
        endpoint: endpoint.name,
        latencyMs: performance.now() - started,
        xCache: res.headers.get('x-cache') ?? undefined,
      }
    }),
  )
}

function idleSplit(timeline: PlexCallTimeline, poll: PollRun, stopAt: number, endAt: number): IdleSplit {
  const lastRead = Math.max(stopAt, ...poll.lastSentAt.values())
  const windowEnd = lastRead + IDLE_WINDOW_SECONDS * 1000 + WINDOW_GRACE_MS
  const per10s: number[] = []
  for (let from = stopAt; from < endAt - 1; from += 10_000)
    per10s.push(totalOf(timeline.between(from, Math.min(endAt, from + 10_000))))
  return {
    idleWindowSeconds: IDLE_WINDOW_SECONDS,
    windowEndsAfterSeconds: (windowEnd - stopAt) / 1000,
    phaseSeconds: Math.round((endAt - stopAt) / 1000),
    duringWindow: timeline.between(stopAt, Math.min(windowEnd, endAt)),
    afterWindow: endAt > windowEnd ? timeline.between(windowEnd, endAt) : null,
    per10s,
  }
}

/**
 * The hit comparison alone, nothing polling: every round in fresh processes (a service with the
 * sessions value loaded, the bare Fastify route, plain node:http); then metrics on and off.
 */
async function hitOnly(a: Args): Promise<void> {
  const loadAtStart = os.loadavg()
  const sim = await startSimulator({ port: 0, token: TOKEN, seed: a.seed, items: SIM_ITEMS, speed: 0 })
  let service: ServiceUnderTest | undefined
  try {
    const nodeArgs = a.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(a.cpuProfDir)}`]
    const rounds = Math.max(3, a.hitRounds)
    progress(
      `hit path: autocannon, ${a.hitConnections} connections, ${a.hitSeconds} s per side in ${rounds} rounds, fresh processes every round`,
    )
    const hit = await compareHitPathFresh(() => startService({ plexUrl: sim.url, plexToken: TOKEN, nodeArgs }), {
      connections: a.hitConnections,
      seconds: a.hitSeconds,
      rounds,
    })
    const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' / ')
    console.log(
      `api bench, hit path only: Node ${process.version}, ${os.cpus().length} cores, load average ${load(loadAtStart)} at start, ${load(os.loadavg())} at end`,
    )
    printHitPath(hit)
    for (const v of hitVerdicts(hit)) console.log(`  ${v.pass ? 'PASS' : 'FAIL'}  ${v.name}: ${v.detail}`)
    progress(
      'metrics on and off: a service with METRICS_ENABLED=false beside one with metrics, alternating rounds; then the scrape cost',
    )
    service = await startService({ plexUrl: sim.url, plexToken: TOKEN })
    const cost = await compareMetricsOnOff(
      service,
      { url: sim.url, token: TOKEN },
      { connections: a.hitConnections, seconds: a.hitSeconds, rounds: a.hitRounds },
    )
    const scrape = await measureScrapeCost()
    printMetricsCost(cost, scrape)
    if (a.json) {
      console.log(
        JSON.stringify({
          bench: 'api-hit',
          metrics_on_rps: cost.on.requestsPerSec,
          metrics_off_rps: cost.off.requestsPerSec,
          metrics_throughput_ratio: round(cost.throughputRatio, 3),
          metrics_cpu_ratio: round(cost.cpuRatio, 3),
          scrape_cpu_ms_median: round(scrape.cpuMsPerScrape.median, 3),
          scrape_cpu_ms_p95: round(scrape.cpuMsPerScrape.p95, 3),
          connections: hit.connections,
          rounds: hit.rounds,
          service_rps: hit.service.requestsPerSec,
          bare_rps: hit.bare.requestsPerSec,
          node_http_rps: hit.nodeHttp.requestsPerSec,
          service_p99_ms: hit.service.p99Ms,
          bare_p99_ms: hit.bare.p99Ms,
          node_http_p99_ms: hit.nodeHttp.p99Ms,
          service_cpu_us_per_request: round(hit.service.cpuMicrosPerRequest, 1),
          bare_cpu_us_per_request: round(hit.bare.cpuMicrosPerRequest, 1),
          throughput_ratio: round(hit.throughputRatio, 3),
          p99_ratio: round(hit.p99Ratio, 3),
          cpu_ratio: round(hit.cpuRatio, 3),
        }),
      )
    }
  } finally {
    await service?.stop()
    await sim.close()
  }
}

export async function main(args: string[]): Promise<void> {
  const a = parseArgs(args)
  if (a.hitOnly) return hitOnly(a)
  const loadAtStart = os.loadavg()
  const startedAt = new Date()
  const sim = await startSimulator({
    port: 0,
    token: TOKEN,
    seed: a.seed,
    items: SIM_ITEMS,
    speed: a.frozenPlex ? 0 : 1,
  })
  let service: ServiceUnderTest | undefined
  try {
    for (const fault of KOMANDORR_UPSTREAM) await sim.control.setFault(fault)

    let baseline: { run: PollRun; plexCalls: Counts } | null = null
    if (a.baselineSeconds > 0) {
      progress(`no-cache baseline: ${a.clients} clients for ${a.baselineSeconds} s against a pass-through`)
      baseline = await measureWithoutCache(sim, a)
    }

    progress('starting the service (child process) and waiting for its first watch-history sync')
    service = await startService({
      plexUrl: sim.url,
      plexToken: TOKEN,
      env: { CACHE_WARM_IDLE: String(IDLE_WINDOW_SECONDS) },
    })
    await service.postJson('/api/plex/watch-history/sync')
    const cold = await openDashboard(service)

    progress(`polling: ${a.clients} clients for ${a.pollSeconds} s, then ${a.idleSeconds} s without clients`)
    sim.control.resetCounts()
    const timeline = new PlexCallTimeline(sim)
    const statsBefore = await cacheStats(service)
    let statsAtStop: Promise<Map<string, CacheStatsRow>> | undefined
    let stopAt = 0
    const svc = service
    const poll = await pollLikeKomandorr({
      baseUrl: service.url,
      clients: a.clients,
      durationMs: a.pollSeconds * 1000,
      seed: a.seed,
      onStart: (at) => {
        stopAt = at + a.pollSeconds * 1000
        setTimeout(() => {
          timeline.sample()
          statsAtStop = cacheStats(svc)
        }, a.pollSeconds * 1000)
      },
    })
    const statsAfter = await statsAtStop!
    const idleEnd = stopAt + a.idleSeconds * 1000
    await sleepUntil(idleEnd)
    timeline.stop()
    const pollCalls = timeline.between(-Infinity, stopAt)
    const idle = idleSplit(timeline, poll, stopAt, idleEnd)

    let hit: HitPathResult | null = null
    if (a.hitSeconds > 0) {
      progress(`hit path: autocannon, ${a.hitConnections} connections, ${a.hitSeconds} s per side`)
      hit = await compareHitPath(service, { connections: a.hitConnections, seconds: a.hitSeconds, rounds: a.hitRounds })
    }
    const loadAtEnd = os.loadavg()

    const rows = endpointRows({
      endpoints: KOMANDORR_POLLING,
      poll,
      plexCalls: pollCalls,
      statsBefore,
      statsAfter,
      baseline,
    })
    const results = verdicts(rows, a.clients, a.pollSeconds, idle, hit)
    const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' / ')
    printReport({
      title:
        `api bench: ${a.clients} clients polling for ${a.pollSeconds} s, then ${a.idleSeconds} s idle; service in a child process; ` +
        `Plex = simulator (${SIM_ITEMS} items, ${a.frozenPlex ? 'frozen: no live changes' : 'live sessions and activities'}, latency ${KOMANDORR_UPSTREAM.map((f) => `${f.endpoint} ${f.latencyMs} ms`).join(', ')}); ` +
        `Node ${process.version}, ${os.cpus().length} cores, load average (1/5/15 min) ${load(loadAtStart)} at start, ${load(loadAtEnd)} at end; ${startedAt.toISOString()}`,
      poll,
      rows,
      cold,
      idle,
      hit,
      verdicts: results,
      notes: [
        `Plex calls during polling by endpoint: ${Object.entries(pollCalls)
          .map(([e, n]) => `${e} ${n}`)
          .join(', ')}`,
      ],
    })
    if (a.json) {
      console.log(
        JSON.stringify({
          bench: 'api',
          clients: a.clients,
          poll_seconds: a.pollSeconds,
          idle_seconds: a.idleSeconds,
          baseline_seconds: a.baselineSeconds,
          frozen_plex: a.frozenPlex,
          load_average_start: loadAtStart,
          load_average_end: loadAtEnd,
          endpoints: rows.map((r) => ({
            endpoint: r.endpoint,
            cache: r.cache,
            ttl_seconds: r.ttlSeconds,
            requests_per_min: round(r.requestsPerMin, 1),
            p50_ms: round(r.latency.p50Ms),
            p99_ms: round(r.latency.p99Ms),
            max_ms: round(r.latency.maxMs),
            hit_rate: round(r.latency.hitRate, 4),
            stale: r.latency.stale,
            failed: r.latency.failed,
            loads_per_min: round(r.loadsPerMin),
            load_bound_per_min: round(r.loadBoundPerMin),
            plex_calls_per_min: round(r.plexCallsPerMin),
            plex_calls_per_load: round(r.callsPerLoad),
            before_per_min: round(r.beforePerMin, 1),
            before_measured_per_min: round(r.beforeMeasuredPerMin, 1),
            reduction: round(r.reduction, 5),
            baseline_p50_ms: round(r.baseline?.p50Ms ?? null),
            baseline_p99_ms: round(r.baseline?.p99Ms ?? null),
          })),
          client_loop_delay_ms: {
            p50: round(poll.clientLoopDelayMs.p50),
            p99: round(poll.clientLoopDelayMs.p99),
            max: round(poll.clientLoopDelayMs.max),
          },
          cold_start: cold.map((c) => ({ endpoint: c.endpoint, ms: round(c.latencyMs), x_cache: c.xCache })),
          idle: {
            window_seconds: idle.idleWindowSeconds,
            window_ends_after_seconds: round(idle.windowEndsAfterSeconds, 1),
            during_window: totalOf(idle.duringWindow),
            after_window: idle.afterWindow === null ? null : totalOf(idle.afterWindow),
            per_10s: idle.per10s,
          },
          hit_path: hit && {
            connections: hit.connections,
            service_rps: hit.service.requestsPerSec,
            bare_rps: hit.bare.requestsPerSec,
            service_p99_ms: hit.service.p99Ms,
            bare_p99_ms: hit.bare.p99Ms,
            throughput_ratio: round(hit.throughputRatio, 3),
            p99_ratio: round(hit.p99Ratio, 3),
            service_cpu_us_per_request: round(hit.service.cpuMicrosPerRequest, 1),
            bare_cpu_us_per_request: round(hit.bare.cpuMicrosPerRequest, 1),
            cpu_ratio: round(hit.cpuRatio, 3),
          },
          targets: results.map((v) => ({ name: v.name, pass: v.pass, detail: v.detail })),
        }),
      )
    }
  } finally {
    await service?.stop()
    await sim.close()
  }
}
