// In front of Komandorr: what N open dashboards cost Komandorr (and through it Sonarr, Radarr,
// the uploader, the VPN proxy) with the service in front of it. `npm run bench -- komandorr
// [--seconds N] [--json]`: 1 tab and 20 tabs of the dashboard's and the sidebar's polling over
// N seconds (default 60), each side in a fresh service process in front of a fresh Komandorr
// stand-in (test/komandorr-proxy/stand-in.ts, 20 ms per answer like a Komandorr asking an
// integration); the calls Komandorr receives per route and the ratio 20 tabs / 1 tab (target
// <= 1.1); then the p99 of a cached proxied GET beside a plain pass-through (autocannon, a fresh
// process per side).
import autocannon from 'autocannon'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KOMANDORR_CACHES } from '../src/features/caches/komandorr-caches.js'
import { KomandorrStandIn } from '../test/komandorr-proxy/stand-in.js'
import { pollLikeKomandorr, type PolledEndpoint } from './api/polling.js'
import { startChild, type RunningChild } from './support/child-process.js'

/** Komandorr's dashboard page with its sidebar (frontend v3.3.0): what one open tab polls of Komandorr's. */
const DASHBOARD_POLLING: readonly PolledEndpoint[] = [
  // Sidebar (every page).
  { name: 'sidebar invites', path: '/api/invites/', everyMs: 10_000, cache: 'komandorr_invites' },
  { name: 'sidebar arr queue', path: '/api/arr-activity/queue', everyMs: 5_000, cache: 'komandorr_arr_queue' },
  { name: 'sidebar uploads', path: '/api/uploader/inprogress', everyMs: 5_000, cache: 'komandorr_uploader_inprogress' },
  {
    name: 'sidebar failed',
    path: '/api/uploader/failed_count',
    everyMs: 15_000,
    cache: 'komandorr_uploader_failed_count',
  },
  { name: 'sidebar queue', path: '/api/uploader/queue', everyMs: 10_000, cache: 'komandorr_uploader_queue' },
  { name: 'sidebar storage', path: '/api/storage/summary', everyMs: 30_000, cache: 'komandorr_storage_summary' },
  { name: 'sidebar services', path: '/api/services/', everyMs: 10_000, cache: 'komandorr_services' },
  { name: 'sidebar vpn', path: '/api/vpn-proxy/containers', everyMs: 30_000, cache: 'komandorr_vpn_containers' },
  // Dashboard.
  { name: 'services', path: '/api/services/', everyMs: 10_000, cache: 'komandorr_services' },
  { name: 'uploads', path: '/api/uploader/inprogress', everyMs: 2_000, cache: 'komandorr_uploader_inprogress' },
  { name: 'arr queue', path: '/api/arr-activity/queue', everyMs: 5_000, cache: 'komandorr_arr_queue' },
  { name: 'vpn containers', path: '/api/vpn-proxy/containers', everyMs: 15_000, cache: 'komandorr_vpn_containers' },
  {
    name: 'vpn info',
    path: '/api/vpn-proxy/containers/vpn-info-batch',
    everyMs: 15_000,
    cache: 'komandorr_vpn_info',
  },
  {
    name: 'vpn dependents',
    path: '/api/vpn-proxy/containers/dependents',
    everyMs: 20_000,
    cache: 'komandorr_vpn_dependents',
  },
  { name: 'vpn status', path: '/api/vpn-proxy/status', everyMs: 30_000, cache: 'komandorr_vpn_status' },
]

const STAND_IN_LATENCY_MS = 20
const TABS = [1, 20] as const
const TARGET_RATIO = 1.1

interface Args {
  readonly seconds: number
  readonly latencySeconds: number
  readonly json: boolean
}

function parseArgs(args: readonly string[]): Args {
  const value = (flag: string, fallback: number) => {
    const i = args.indexOf(flag)
    const n = i >= 0 ? Number(args[i + 1]) : fallback
    if (!(n > 0)) throw new Error(`${flag} wants a positive number`)
    return n
  }
  return {
    seconds: value('--seconds', 60),
    latencySeconds: value('--latency-seconds', 10),
    json: args.includes('--json'),
  }
}

interface Service {
  readonly url: string
  stop(): Promise<void>
}

/** `src/main.ts` in a fresh child process in front of `komandorrUrl`, on a throw-away database. */
async function startService(komandorrUrl: string): Promise<Service> {
  const dir = mkdtempSync(join(tmpdir(), 'komandorr-bench-proxy-'))
  let child: RunningChild
  try {
    child = await startChild({
      script: 'src/main.ts',
      cwd: dir,
      env: {
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'info',
        DATABASE_PATH: join(dir, 'komandorr.db'),
        KOMANDORR_URL: komandorrUrl,
      },
      ready: /"port":(\d+).*komandorr-cache is listening/,
    })
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  return {
    url: `http://127.0.0.1:${child.readyMatch}`,
    async stop() {
      await child.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

interface PollingSide {
  readonly tabs: number
  /** Komandorr's calls per `GET path` over the run. */
  readonly calls: Record<string, number>
  readonly total: number
  readonly requests: number
  readonly failed: number
}

async function pollingSide(tabs: number, seconds: number): Promise<PollingSide> {
  const komandorr = await KomandorrStandIn.start({ latencyMs: STAND_IN_LATENCY_MS })
  const service = await startService(komandorr.url)
  try {
    komandorr.reset()
    const run = await pollLikeKomandorr({
      baseUrl: service.url,
      clients: tabs,
      durationMs: seconds * 1000,
      seed: 17,
      endpoints: DASHBOARD_POLLING,
    })
    const calls: Record<string, number> = {}
    for (const [route, n] of Object.entries(komandorr.counts())) calls[route] = n
    return {
      tabs,
      calls,
      total: Object.values(calls).reduce((a, b) => a + b, 0),
      requests: run.samples.length,
      failed: run.samples.filter((s) => s.status !== 200).length,
    }
  } finally {
    await service.stop()
    await komandorr.close()
  }
}

interface LatencySide {
  readonly name: string
  readonly path: string
  readonly p50: number
  readonly p99: number
  readonly requestsPerSecond: number
  readonly non2xx: number
}

/** One path under autocannon (10 connections) for `seconds`, in a fresh service in front of a fresh stand-in. */
async function latencySide(name: string, path: string, seconds: number): Promise<LatencySide> {
  const komandorr = await KomandorrStandIn.start()
  const service = await startService(komandorr.url)
  try {
    await fetch(service.url + path).then((r) => r.text())
    const result = await autocannon({ url: service.url + path, connections: 10, duration: seconds })
    return {
      name,
      path,
      p50: result.latency.p50,
      p99: result.latency.p99,
      requestsPerSecond: result.requests.average,
      non2xx: result.non2xx,
    }
  } finally {
    await service.stop()
    await komandorr.close()
  }
}

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv)
  const progress = (line: string) => {
    if (!args.json) console.error(line)
  }
  const sides: PollingSide[] = []
  for (const tabs of TABS) {
    progress(`polling: ${tabs} tab(s) for ${args.seconds} s in front of the stand-in...`)
    sides.push(await pollingSide(tabs, args.seconds))
  }
  const cachedPath = '/api/arr-activity/queue'
  const passThroughPath = '/api/posterizarr/status'
  progress(`latency: autocannon, 10 connections, ${args.latencySeconds} s per side...`)
  const latency = [
    await latencySide('cached proxied GET', cachedPath, args.latencySeconds),
    await latencySide('plain pass-through', passThroughPath, args.latencySeconds),
  ]
  const [one, twenty] = sides as [PollingSide, PollingSide]
  const ratio = twenty.total / one.total
  if (args.json) {
    console.log(JSON.stringify({ seconds: args.seconds, sides, ratio, target: TARGET_RATIO, latency }, null, 2))
    return
  }
  const routes = [...new Set([...Object.keys(one.calls), ...Object.keys(twenty.calls)])].sort()
  const cached = new Set(KOMANDORR_CACHES.map((spec) => `GET ${spec.path}`))
  console.log(`\nCalls Komandorr received over ${args.seconds} s (stand-in answering in ${STAND_IN_LATENCY_MS} ms):\n`)
  console.log('| route | 1 tab | 20 tabs | ratio |')
  console.log('|---|---:|---:|---:|')
  for (const route of routes) {
    const a = one.calls[route] ?? 0
    const b = twenty.calls[route] ?? 0
    const mark = cached.has(route) ? '' : ' (not cached)'
    console.log(`| ${route}${mark} | ${a} | ${b} | ${a === 0 ? '-' : (b / a).toFixed(2)} |`)
  }
  console.log(`| **all** | ${one.total} | ${twenty.total} | **${ratio.toFixed(2)}** |`)
  console.log(
    `\nRequests from the tabs: ${one.requests} (1 tab), ${twenty.requests} (20 tabs); not 200: ${one.failed}, ${twenty.failed}.`,
  )
  console.log(
    `Ratio 20 tabs / 1 tab: ${ratio.toFixed(2)} (target <= ${TARGET_RATIO}): ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'}.\n`,
  )
  console.log(`Latency, autocannon 10 connections, ${args.latencySeconds} s, a fresh process per side:\n`)
  console.log('| answer | path | p50 ms | p99 ms | req/s | non-2xx |')
  console.log('|---|---|---:|---:|---:|---:|')
  for (const side of latency) {
    console.log(
      `| ${side.name} | ${side.path} | ${side.p50} | ${side.p99} | ${Math.round(side.requestsPerSecond)} | ${side.non2xx} |`,
    )
  }
}
