// What the metrics cost: cache-hit throughput of the service with METRICS_ENABLED on and off
// (two child processes, alternating rounds, same run), and the CPU time of one `/metrics`
// scrape with 10 caches and 1,000 watch-history queries held (in this process).
import autocannon from 'autocannon'
import { loadConfig } from '../../src/config.js'
import { CACHES } from '../../src/features/caches/index.js'
import { createLogger } from '../../src/logger.js'
import { watchHistoryCache } from '../../src/features/caches/watch-history.js'
import { createRuntime } from '../../src/runtime.js'
import { captureHit, combine, cpuMicrosOf, type LoadSide, type Round } from './hitpath.js'
import { startService, type ServiceUnderTest } from './service.js'

const PATH = '/api/plex/sessions'

export interface MetricsCostResult {
  connections: number
  rounds: number
  secondsPerSide: number
  on: LoadSide
  off: LoadSide
  /** metrics on req/s ÷ metrics off req/s */
  throughputRatio: number
  cpuRatio: number | null
}

/** `service` runs with metrics on; a second service without them is started beside it. */
export async function compareMetricsOnOff(
  service: ServiceUnderTest,
  plex: { url: string; token: string },
  options: { connections: number; seconds: number; rounds: number },
): Promise<MetricsCostResult> {
  const off = await startService({ plexUrl: plex.url, plexToken: plex.token, env: { METRICS_ENABLED: 'false' } })
  try {
    await captureHit(service.url)
    await captureHit(off.url)
    const perRound = Math.max(1, Math.round(options.seconds / options.rounds))
    const run = async (target: ServiceUnderTest, seconds: number): Promise<Round> => {
      const pid = target.process.child.pid
      const before = cpuMicrosOf(pid)
      const result = await autocannon({ url: target.url + PATH, connections: options.connections, duration: seconds })
      const after = cpuMicrosOf(pid)
      return { result, cpuMicros: before === null || after === null ? null : after - before }
    }
    await run(service, 1)
    await run(off, 1)
    const rounds: { on: Round[]; off: Round[] } = { on: [], off: [] }
    for (let i = 0; i < options.rounds; i++) {
      // Alternate which side goes first, so neither always follows the other's load.
      if (i % 2 === 0) {
        rounds.on.push(await run(service, perRound))
        rounds.off.push(await run(off, perRound))
      } else {
        rounds.off.push(await run(off, perRound))
        rounds.on.push(await run(service, perRound))
      }
    }
    const on = combine(rounds.on)
    const offSide = combine(rounds.off)
    return {
      connections: options.connections,
      rounds: options.rounds,
      secondsPerSide: perRound * options.rounds,
      on,
      off: offSide,
      throughputRatio: on.requestsPerSec / offSide.requestsPerSec,
      cpuRatio:
        on.cpuMicrosPerRequest === null || offSide.cpuMicrosPerRequest === null
          ? null
          : on.cpuMicrosPerRequest / offSide.cpuMicrosPerRequest,
    }
  } finally {
    await off.stop()
  }
}

export interface ScrapeCostResult {
  caches: number
  watchHistoryEntries: number
  scrapes: number
  bytes: number
  cpuMsPerScrape: { median: number; p95: number; max: number }
}

/** One runtime in this process; 10 caches (one extra beside the service's), 1,000 watch-history keys. */
export async function measureScrapeCost(scrapes = 200): Promise<ScrapeCostResult> {
  const config = loadConfig({ DATABASE_PATH: ':memory:', LOG_LEVEL: 'warn', HOST: '127.0.0.1' }, CACHES)
  const runtime = await createRuntime(config, { logger: createLogger({ level: 'warn' }) })
  try {
    const { caches } = runtime
    for (let n = caches.list().length; n < 10; n++) {
      caches.define({ name: `bench_extra_${n}`, key: `bench:extra:${n}`, ttlMs: 60_000, load: () => ({ n }) })
      await caches.get(`bench_extra_${n}`)!.read(undefined)
    }
    const history = runtime.cacheDeps.cache(watchHistoryCache)
    for (let i = 0; i < 1_000; i++) await history.read({ limit: 1 + (i % 100), offset: Math.floor(i / 100) })
    const metrics = runtime.metrics!
    let bytes = 0
    for (let i = 0; i < 20; i++) bytes = (await metrics.scrape()).length
    const samples: number[] = []
    for (let i = 0; i < scrapes; i++) {
      const before = process.cpuUsage()
      await metrics.scrape()
      const used = process.cpuUsage(before)
      samples.push((used.user + used.system) / 1000)
    }
    samples.sort((a, b) => a - b)
    const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!
    return {
      caches: caches.list().length,
      watchHistoryEntries: history.counters.entries,
      scrapes,
      bytes,
      cpuMsPerScrape: { median: at(0.5), p95: at(0.95), max: samples[samples.length - 1]! },
    }
  } finally {
    await runtime.close()
  }
}

export function printMetricsCost(cost: MetricsCostResult, scrape: ScrapeCostResult): void {
  const log = (line = '') => console.log(line)
  const row = (name: string, side: LoadSide) =>
    `| ${name} | ${side.requestsPerSec} | ${side.p50Ms.toFixed(2)} | ${side.p99Ms.toFixed(2)} | ${side.cpuMicrosPerRequest === null ? '–' : side.cpuMicrosPerRequest.toFixed(1)} | ${side.non2xx} | ${side.errors} |`
  log()
  log(
    `Metrics cost on the hit path: ${PATH}, autocannon ${cost.connections} connections, ${cost.secondsPerSide} s per side in ${cost.rounds} alternating rounds (median round)`,
  )
  log()
  log('| service | req/s | p50 ms | p99 ms | server CPU µs/request | non-2xx | errors |')
  log('|---|---:|---:|---:|---:|---:|---:|')
  log(row('METRICS_ENABLED=true (default)', cost.on))
  log(row('METRICS_ENABLED=false', cost.off))
  log()
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`
  log(
    `metrics on ÷ off: throughput ${pct(cost.throughputRatio)}, CPU per request ${cost.cpuRatio === null ? '–' : pct(cost.cpuRatio)} (target: throughput within 3 %)`,
  )
  log()
  log(
    `/metrics scrape: ${scrape.caches} caches, ${scrape.watchHistoryEntries} watch-history entries, ${scrape.bytes} B of text; CPU per scrape over ${scrape.scrapes}: ` +
      `median ${scrape.cpuMsPerScrape.median.toFixed(2)} ms, p95 ${scrape.cpuMsPerScrape.p95.toFixed(2)} ms, max ${scrape.cpuMsPerScrape.max.toFixed(2)} ms (target < 5 ms)`,
  )
}
