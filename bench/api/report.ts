// Turns the raw runs into the before/after table, the idle split and the target verdicts.
import { percentiles } from '../../src/cache/index.js'
import type { HitPathResult } from './hitpath.js'
import { PLEX_CALLS_OF_CACHE, totalOf, type Counts } from './plex-calls.js'
import type { PolledEndpoint, PollRun, PollSample } from './polling.js'
import type { CacheStatsRow } from './service.js'

/** Komandorr's claim for its cache, and the bar at 100 dashboards. */
const KOMANDORR_CLAIMED_REDUCTION = 0.83
const REDUCTION_TARGET_AT_100 = 0.999
const P99_TARGET_MS = 10
const HIT_THROUGHPUT_TARGET = 1.0
const HIT_P99_RATIO_TARGET = 1.1

export interface LatencySummary {
  requests: number
  p50Ms: number | null
  p99Ms: number | null
  maxMs: number | null
  /** X-Cache HIT share of the answered requests. */
  hitRate: number
  stale: number
  failed: number
}

export interface EndpointRow {
  endpoint: string
  cache: string
  ttlSeconds: number
  requestsPerMin: number
  latency: LatencySummary
  /** Loader calls of the cache (from its own counters) per minute, and how many were refresh-ahead. */
  loadsPerMin: number
  refreshes: number
  readerLoads: number
  plexCallsPerMin: number
  /** Plex calls one load makes (measured), null without a load. */
  callsPerLoad: number | null
  /** Plex calls one request costs without a cache: `callsPerLoad`, else what the pass-through made per request. */
  callsPerRequest: number | null
  callsPerRequestFrom: 'load' | 'pass-through' | null
  /** Plex calls per minute with every request going to Plex: requests × calls per request. */
  beforePerMin: number | null
  /** Plex calls per minute the pass-through made under the same polling, null if not run. */
  beforeMeasuredPerMin: number | null
  baseline: LatencySummary | null
  reduction: number | null
  /** The target: refresh ahead at 0.8·TTL bounds loads to 60/(0.8·TTL) + 1 a minute. */
  loadBoundPerMin: number
  /** The best reduction any cache with this TTL could reach at this polling. */
  reductionCeiling: number | null
}

export interface IdleSplit {
  idleWindowSeconds: number
  /** Seconds after the clients stopped at which the idle window (and the last load it allows) ended. */
  windowEndsAfterSeconds: number
  phaseSeconds: number
  duringWindow: Record<string, number>
  /** null when the phase ended before the window did. */
  afterWindow: Record<string, number> | null
  /** Calls per 10 s after the clients stopped. */
  per10s: number[]
}

export interface Verdict {
  name: string
  /** null: not evaluated (the run cannot tell). */
  pass: boolean | null
  detail: string
}

export function summarize(samples: readonly PollSample[]): LatencySummary {
  const answered = samples.filter((s) => s.status === 200)
  const p = percentiles(answered.map((s) => s.latencyMs))
  return {
    requests: samples.length,
    p50Ms: p?.p50 ?? null,
    p99Ms: p?.p99 ?? null,
    maxMs: answered.length === 0 ? null : Math.max(...answered.map((s) => s.latencyMs)),
    hitRate: answered.length === 0 ? 0 : answered.filter((s) => s.xCache === 'HIT').length / answered.length,
    stale: answered.filter((s) => s.xCache === 'STALE').length,
    failed: samples.length - answered.length,
  }
}

export interface RowInputs {
  endpoints: readonly PolledEndpoint[]
  poll: PollRun
  /** Simulator counts over the polling phase. */
  plexCalls: Counts
  statsBefore: Map<string, CacheStatsRow>
  statsAfter: Map<string, CacheStatsRow>
  baseline: { run: PollRun; plexCalls: Counts } | null
}

export function endpointRows(input: RowInputs): EndpointRow[] {
  const perMin = (count: number, ms: number) => (count * 60_000) / ms
  return input.endpoints.map((endpoint) => {
    const samples = input.poll.samples.filter((s) => s.endpoint === endpoint.name)
    const before = input.statsBefore.get(endpoint.cache)
    const after = input.statsAfter.get(endpoint.cache)
    const delta = (field: 'loads' | 'refreshes') => (after?.[field] ?? 0) - (before?.[field] ?? 0)
    const loads = delta('loads')
    const callsOf = PLEX_CALLS_OF_CACHE[endpoint.cache]
    const plexCalls = callsOf?.(input.plexCalls) ?? 0
    const ttlSeconds = after?.ttl_seconds ?? Number.NaN
    const requestsPerMin = perMin(samples.length, input.poll.durationMs)

    const baselineSamples = input.baseline?.run.samples.filter((s) => s.endpoint === endpoint.name) ?? []
    const baselineCalls = input.baseline && callsOf ? callsOf(input.baseline.plexCalls) : null
    const callsPerLoad = loads > 0 ? plexCalls / loads : null
    // Calls per request without a cache: what one of our loads makes, else what the pass-through made.
    const callsPerRequest =
      callsPerLoad ??
      (baselineCalls !== null && baselineSamples.length > 0 ? baselineCalls / baselineSamples.length : null)
    const beforePerMin = callsPerRequest === null ? null : requestsPerMin * callsPerRequest
    const plexCallsPerMin = perMin(plexCalls, input.poll.durationMs)
    const loadBoundPerMin = 60 / (0.8 * ttlSeconds) + 1
    return {
      endpoint: endpoint.name,
      cache: endpoint.cache,
      ttlSeconds,
      requestsPerMin,
      latency: summarize(samples),
      loadsPerMin: perMin(loads, input.poll.durationMs),
      refreshes: delta('refreshes'),
      readerLoads: loads - delta('refreshes'),
      plexCallsPerMin,
      callsPerLoad,
      callsPerRequest,
      callsPerRequestFrom: callsPerLoad !== null ? 'load' : callsPerRequest !== null ? 'pass-through' : null,
      beforePerMin,
      beforeMeasuredPerMin:
        input.baseline && baselineCalls !== null ? perMin(baselineCalls, input.baseline.run.durationMs) : null,
      baseline: input.baseline ? summarize(baselineSamples) : null,
      reduction: beforePerMin ? 1 - plexCallsPerMin / beforePerMin : null,
      loadBoundPerMin,
      reductionCeiling:
        beforePerMin && callsPerRequest !== null ? 1 - ((60 / ttlSeconds) * callsPerRequest) / beforePerMin : null,
    }
  })
}

export function verdicts(
  rows: readonly EndpointRow[],
  clients: number,
  pollSeconds: number,
  idle: IdleSplit,
  hit: HitPathResult | null,
): Verdict[] {
  const out: Verdict[] = []
  for (const row of rows) {
    const p99 = row.latency.p99Ms
    out.push({
      name: `${row.endpoint}: p99 < ${P99_TARGET_MS} ms`,
      pass: p99 !== null && p99 < P99_TARGET_MS,
      detail: `p99 ${ms(p99)}`,
    })
  }
  for (const row of rows) {
    // The bound per window: refresh ahead allows window/(0.8·TTL) loads, plus one for where the window cuts.
    const minutes = pollSeconds / 60
    out.push({
      name: `${row.cache}: loads/min ≤ 60/(0.8·${row.ttlSeconds}) + 1 = ${row.loadBoundPerMin.toFixed(2)}`,
      pass: row.loadsPerMin * minutes <= (row.loadBoundPerMin - 1) * minutes + 1,
      detail: `${row.loadsPerMin.toFixed(2)} loads/min (${row.refreshes} refresh-ahead, ${row.readerLoads} started by a reader)`,
    })
  }
  const before = rows.reduce((sum, r) => sum + (r.beforePerMin ?? 0), 0)
  const after = rows.reduce((sum, r) => sum + r.plexCallsPerMin, 0)
  const reduction = before > 0 ? 1 - after / before : null
  const ceiling =
    before > 0
      ? 1 - rows.reduce((sum, r) => sum + (1 - (r.reductionCeiling ?? 1)) * (r.beforePerMin ?? 0), 0) / before
      : null
  out.push({
    name: `Plex calls ≥ ${pct(KOMANDORR_CLAIMED_REDUCTION)} fewer (Komandorr's claim)`,
    pass: reduction === null ? null : reduction >= KOMANDORR_CLAIMED_REDUCTION,
    detail: `${pct(reduction)} fewer`,
  })
  out.push({
    name: `Plex calls ≥ ${pct(REDUCTION_TARGET_AT_100)} fewer at 100 clients`,
    pass: clients < 100 || reduction === null ? null : reduction >= REDUCTION_TARGET_AT_100,
    detail:
      clients < 100
        ? `not evaluated at ${clients} clients`
        : `${pct(reduction)} fewer; one load per TTL would give at most ${pct(ceiling)}`,
  })
  const afterCalls = idle.afterWindow === null ? null : totalOf(idle.afterWindow)
  out.push({
    name: `no Plex calls once the ${idle.idleWindowSeconds} s idle window has passed`,
    pass: afterCalls === null ? null : afterCalls === 0,
    detail:
      afterCalls === null
        ? `not evaluated: the ${idle.phaseSeconds} s stop phase ends before the window (${idle.windowEndsAfterSeconds.toFixed(0)} s); use --idle-seconds ≥ ${Math.ceil(idle.windowEndsAfterSeconds) + 10}`
        : `${afterCalls} calls in the last ${(idle.phaseSeconds - idle.windowEndsAfterSeconds).toFixed(0)} s`,
  })
  if (hit) out.push(...hitVerdicts(hit))
  return out
}

export function hitVerdicts(hit: HitPathResult): Verdict[] {
  return [
    {
      name: `sessions hit throughput ≥ ${pct(HIT_THROUGHPUT_TARGET)} of a bare route`,
      pass: hit.throughputRatio >= HIT_THROUGHPUT_TARGET,
      detail: `${pct(hit.throughputRatio)} (${hit.service.requestsPerSec} vs ${hit.bare.requestsPerSec} req/s)`,
    },
    {
      name: `sessions hit p99 ≤ ${HIT_P99_RATIO_TARGET}× a bare route`,
      pass: hit.p99Ratio <= HIT_P99_RATIO_TARGET,
      detail: `${hit.p99Ratio.toFixed(2)}× (${ms(hit.service.p99Ms)} vs ${ms(hit.bare.p99Ms)})`,
    },
  ]
}

export interface PrintInputs {
  title: string
  poll: PollRun
  rows: readonly EndpointRow[]
  cold: ReadonlyArray<{ endpoint: string; latencyMs: number; xCache: string | undefined }>
  idle: IdleSplit
  hit: HitPathResult | null
  verdicts: readonly Verdict[]
  notes: readonly string[]
}

export function printReport(p: PrintInputs): void {
  const log = console.log
  log(p.title)
  log()
  log('Polling phase, per endpoint (latency as the clients saw it; hit rate from X-Cache):')
  log(
    '| endpoint | req/min | p50 ms | p99 ms | max ms | hit rate | stale | failed | TTL s | loads/min (refresh / reader) |',
  )
  log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const r of p.rows) {
    const l = r.latency
    log(
      `| ${r.endpoint} | ${r.requestsPerMin.toFixed(0)} | ${ms(l.p50Ms)} | ${ms(l.p99Ms)} | ${ms(l.maxMs)} | ${pct(l.hitRate)} | ${l.stale} | ${l.failed} | ${r.ttlSeconds} | ${r.loadsPerMin.toFixed(2)} (${r.refreshes} / ${r.readerLoads}) |`,
    )
  }
  const lag = p.poll.clientLoopDelayMs
  log(
    `(the polling process's own event-loop lag, inside every latency above: p50 ${ms(lag.p50)}, p99 ${ms(lag.p99)}, max ${ms(lag.max)} ms)`,
  )
  log()
  log('Plex calls per minute, before (every request goes to Plex) and after (this service):')
  log(
    '| endpoint | Plex calls per request (¹ per load, ² pass-through) | before: computed | before: measured pass-through | after | reduction | ceiling at this TTL | pass-through p50 / p99 ms |',
  )
  log('|---|---:|---:|---:|---:|---:|---:|---:|')
  let before = 0
  let measured = 0
  let after = 0
  for (const r of p.rows) {
    before += r.beforePerMin ?? 0
    measured += r.beforeMeasuredPerMin ?? 0
    after += r.plexCallsPerMin
    log(
      `| ${r.endpoint} | ${r.callsPerRequest === null ? '–' : `${r.callsPerRequest.toFixed(2)}${r.callsPerRequestFrom === 'load' ? '¹' : '²'}`} | ${num(r.beforePerMin)} | ${num(r.beforeMeasuredPerMin)} | ${r.plexCallsPerMin.toFixed(1)} | ${pct(r.reduction)} | ${pct(r.reductionCeiling)} | ${r.baseline ? `${ms(r.baseline.p50Ms)} / ${ms(r.baseline.p99Ms)}` : '–'} |`,
    )
  }
  log(
    `| **total** | | ${before.toFixed(0)} | ${measured > 0 ? measured.toFixed(0) : '–'} | ${after.toFixed(1)} | ${pct(before > 0 ? 1 - after / before : null)} | | |`,
  )
  log()
  log(
    `Cold start (first read of each endpoint, before polling): ${p.cold.map((c) => `${c.endpoint} ${ms(c.latencyMs)} ms (${c.xCache ?? 'no X-Cache'})`).join(', ')}`,
  )
  const i = p.idle
  log(
    `After the clients stopped (${i.phaseSeconds} s): ${totalOf(i.duringWindow)} Plex calls during the idle window ` +
      `(${i.idleWindowSeconds} s after the last read, plus the loads it started: ends ${i.windowEndsAfterSeconds.toFixed(1)} s after the stop) ` +
      `${endpointsOf(i.duringWindow)}; after it: ${i.afterWindow === null ? 'n/a (phase too short)' : `${totalOf(i.afterWindow)} ${endpointsOf(i.afterWindow)}`}`,
  )
  log(`  Plex calls per 10 s after the stop: ${i.per10s.join(' ')}`)
  if (p.hit) {
    log()
    printHitPath(p.hit)
  }
  log()
  log('Targets:')
  for (const v of p.verdicts) log(`  ${v.pass === null ? 'N/A ' : v.pass ? 'PASS' : 'FAIL'}  ${v.name}: ${v.detail}`)
  for (const note of p.notes) log(note)
}

export function printHitPath(h: HitPathResult): void {
  const log = (line = '') => console.log(line)
  log(
    `Hit path: /api/plex/sessions, autocannon ${h.connections} connections, ${h.secondsPerSide} s per side in ${h.rounds} ${h.freshProcesses ? 'rounds, every side in fresh processes each round' : 'alternating rounds'} (median round shown, lowest–highest round beside it); ` +
      `body ${h.bodyBytes} B, headers ${h.serviceHeaderBytes} B (service) / ${h.bareHeaderBytes} B (bare); ` +
      `plex_sessions during it: ${h.sessionsHits} hits, ${h.sessionsMisses} misses`,
  )
  log(
    '| target | req/s | req/s lowest–highest | p50 ms | p99 ms | p99 lowest–highest | server CPU µs/request | non-2xx | errors |',
  )
  log('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const [name, side] of [
    ['service (cache hit)', h.service],
    ['bare Fastify route, same bytes', h.bare],
    ['plain node:http, same bytes', h.nodeHttp],
  ] as const) {
    log(
      `| ${name} | ${side.requestsPerSec} | ${side.spread.rpsMin}–${side.spread.rpsMax} | ${ms(side.p50Ms)} | ${ms(side.p99Ms)} | ${ms(side.spread.p99MinMs)}–${ms(side.spread.p99MaxMs)} | ${side.cpuMicrosPerRequest === null ? '–' : side.cpuMicrosPerRequest.toFixed(1)} | ${side.non2xx} | ${side.errors} |`,
    )
  }
  log(
    `against the bare Fastify route: throughput ratio ${pct(h.throughputRatio)}, p99 ratio ${h.p99Ratio.toFixed(2)}×, ` +
      `CPU per request ratio ${h.cpuRatio === null ? '–' : `${h.cpuRatio.toFixed(2)}×`}; against plain node:http: throughput ratio ${pct(h.nodeHttpThroughputRatio)}`,
  )
}

const endpointsOf = (c: Record<string, number>) => {
  const parts = Object.entries(c).map(([endpoint, count]) => `${endpoint} ${count}`)
  return parts.length === 0 ? '' : `(${parts.join(', ')})`
}
const ms = (v: number | null) => (v === null ? '–' : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0))
const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(v > 0.99 && v < 1 ? 2 : 1)} %`)
const num = (v: number | null) => (v === null ? '–' : v.toFixed(0))
