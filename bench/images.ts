// The poster cache: hit ratios of LRU, W-TinyLFU and Belady's optimum on three traces at equal
// byte budgets; then the service's image route (cold stampede, hit latency, throughput).
// `npm run bench -- images [--json] [--quick]`
import { coldDashboards, servingCosts } from './images/http.js'
import { belady, replay, topByCount, type Replay } from './images/policies.js'
import { dashboardTrace, zipfTrace, zipfWithScansTrace, type Trace } from './images/traces.js'

const MiB = 1024 * 1024
/** Budgets per trace: the image tiers' defaults (32 and 512 MiB) for the library traces; the dashboards reference ~55 MiB in all. */
const ZIPF_BUDGETS = [32 * MiB, 128 * MiB, 512 * MiB]
const DASHBOARD_BUDGETS = [8 * MiB, 16 * MiB, 32 * MiB]

interface HitRatioRow {
  trace: string
  budgetMiB: number
  lru: Replay
  wTinyLfu: Replay
  topByCount: Replay
  belady: Replay
}

function pct(ratio: number): string {
  return (ratio * 100).toFixed(1)
}

function hitRatios(traces: Trace[]): HitRatioRow[] {
  const rows: HitRatioRow[] = []
  for (const trace of traces) {
    for (const budget of trace.name.includes('dashboards') ? DASHBOARD_BUDGETS : ZIPF_BUDGETS) {
      rows.push({
        trace: trace.name,
        budgetMiB: budget / MiB,
        lru: replay(trace, 'lru', budget),
        wTinyLfu: replay(trace, 'w-tinylfu', budget),
        topByCount: topByCount(trace, budget),
        belady: belady(trace, budget),
      })
    }
  }
  return rows
}

function printHitRatios(rows: HitRatioRow[], traces: Trace[]): void {
  console.log('hit ratio (% of requests) at equal byte budgets')
  for (const trace of traces) {
    const distinct = new Set(trace.keys)
    const bytes = [...distinct].reduce((sum, key) => sum + trace.sizeOf.get(key)!, 0)
    console.log(
      `- ${trace.name}: ${trace.keys.length.toLocaleString('en')} requests, ${distinct.size.toLocaleString('en')} distinct images, ${(bytes / MiB).toFixed(0)} MiB in all`,
    )
  }
  console.log(
    '| trace | budget | LRU | W-TinyLFU | top by count (offline) | Belady (offline) | W-TinyLFU − LRU | Belady − W-TinyLFU |',
  )
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|')
  for (const row of rows) {
    const outside = row.trace.includes('scan')
    const show = (r: Replay) => (outside ? `${pct(r.hitRatio)} (${pct(r.hitRatioOutsideScans)})` : pct(r.hitRatio))
    console.log(
      `| ${row.trace} | ${row.budgetMiB} MiB | ${show(row.lru)} | ${show(row.wTinyLfu)} | ${show(row.topByCount)} | ${show(row.belady)} | ${pct(row.wTinyLfu.hitRatio - row.lru.hitRatio)} | ${pct(row.belady.hitRatio - row.wTinyLfu.hitRatio)} |`,
    )
  }
  console.log('(for the scan trace: all requests, and in brackets the requests outside the scans)')
}

export async function main(args: string[]): Promise<void> {
  const json = args.includes('--json')
  const quick = args.includes('--quick')
  const items = 20_000
  const requests = quick ? 100_000 : 400_000
  const traces = [
    zipfTrace({ items, requests, s: 0.9, seed: 1 }),
    zipfWithScansTrace({ items, requests: requests / 2, s: 0.9, seed: 2, every: 10_000 }),
    await dashboardTrace({ users: 100, visits: quick ? 5 : 20, items: 5_000, historyRows: 50_000, seed: 3 }),
  ]
  const rows = hitRatios(traces)
  printHitRatios(rows, traces)
  const zipfRows = rows.filter((row) => !row.trace.includes('dashboards'))

  console.log()
  const cold = await coldDashboards(100)
  console.log(
    `cold dashboards: ${cold.browsers} browsers open the sessions and recent-media pages at once, then load their images`,
  )
  console.log(
    '| distinct images | Plex image requests | image requests the browsers made (one Plex request each without the cache) |',
  )
  console.log('|---:|---:|---:|')
  console.log(`| ${cold.distinctImages} | ${cold.imageRequestsToPlex} | ${cold.withoutCache} |`)

  console.log()
  const bytes = 100_000
  const served = await servingCosts({
    bytes,
    sequential: quick ? 1_000 : 4_000,
    seconds: quick ? 1 : 3,
    connections: 10,
  })
  console.log(
    `one ${bytes / 1000} KB poster: sequential latency (keep-alive fetch) and throughput (autocannon, 10 connections, median of 3 interleaved rounds)`,
  )
  console.log('| served by | p50 ms | p99 ms | requests/s | × @fastify/static |')
  console.log('|---|---:|---:|---:|---:|')
  const baseline = served.find((s) => s.name.startsWith('@fastify/static'))!.requestsPerSecond
  for (const s of served) {
    console.log(
      `| ${s.name} | ${s.p50Ms.toFixed(3)} | ${s.p99Ms.toFixed(3)} | ${Math.round(s.requestsPerSecond)} | ${(s.requestsPerSecond / baseline).toFixed(2)} |`,
    )
  }

  const verdict = {
    w_tinylfu_ge_lru_everywhere: rows.every((row) => row.wTinyLfu.hitRatio >= row.lru.hitRatio),
    w_tinylfu_within_5_points_of_belady_on_zipf: zipfRows.every(
      (row) => row.belady.hitRatio - row.wTinyLfu.hitRatio <= 0.05,
    ),
    one_plex_request_per_distinct_image: cold.imageRequestsToPlex === cold.distinctImages,
  }
  console.log()
  console.log(
    `targets: ${Object.entries(verdict)
      .map(([name, ok]) => `${name} ${ok ? 'met' : 'MISSED'}`)
      .join(', ')}`,
  )
  if (json) console.log(JSON.stringify({ hitRatios: rows, cold, served, verdict }))
}
