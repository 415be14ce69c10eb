// Memory over time: 100 Komandorr dashboards polling every route its frontend polls, at its
// intervals, plus one client paging watch history, for 30 minutes against the built service
// (`dist/`, plain node, as `npm start` runs it), the simulator as Plex. Every minute: RSS, the
// heap after a full GC and the event-loop delay p99, read inside the service by a probe loaded
// only here (bench/soak/probe.mjs, `node --expose-gc --import`). Before the load, the idle
// service beside a bare Fastify process measured the same way in the same run.
// `npm run bench -- soak [--minutes N] [--dashboards N] [--idle-seconds S] [--history-limit N] [--json]`
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { startSimulator } from '../sim/index.js'
import { pollLikeKomandorr, type PolledEndpoint, type PollRun } from './api/polling.js'
import { ROOT, startChild, type RunningChild } from './support/child-process.js'

const TOKEN = 'bench-soak-token'
const MiB = 1024 * 1024
const PROBE = join(ROOT, 'bench/soak/probe.mjs')

/**
 * What Komandorr's frontend polls (frontend/src, `refetchInterval`): sessions and activities every
 * 5 s (Sidebar, PlexActivity), `/api/downloads` every 5 s (Dashboard's activities), services every
 * 10 s (Dashboard, Sidebar), the users count every 10 s and live stats every 60 s (UserAccounts).
 * The frontend reads health, dashboard stats and cache stats only on demand: here a monitor's
 * pace, every 30 s and 60 s.
 */
export const SOAK_POLLING: readonly PolledEndpoint[] = [
  { name: 'sessions', path: '/api/plex/sessions', everyMs: 5_000, cache: 'plex_sessions' },
  { name: 'activities', path: '/api/plex/activities', everyMs: 5_000, cache: 'plex_activities' },
  { name: 'downloads', path: '/api/downloads', everyMs: 5_000, cache: 'plex_activities' },
  { name: 'services', path: '/api/services/', everyMs: 10_000, cache: '' },
  { name: 'users/count', path: '/api/plex/users/count', everyMs: 10_000, cache: 'plex_users_count' },
  { name: 'stats/live', path: '/api/plex/stats/live', everyMs: 60_000, cache: 'plex_stats_live' },
  { name: 'health', path: '/api/health', everyMs: 30_000, cache: '' },
  { name: 'stats/dashboard', path: '/api/plex/stats/dashboard', everyMs: 60_000, cache: 'background_stats' },
  { name: 'cache/stats', path: '/api/plex/cache/stats', everyMs: 60_000, cache: '' },
]

interface Args {
  minutes: number
  dashboards: number
  idleSeconds: number
  historyLimit: number
  historyRows: number
  json: boolean
}

function parseArgs(args: string[]): Args {
  const flag = (name: string, fallback: number, min = 1): number => {
    const i = args.indexOf(name)
    if (i < 0) return fallback
    const n = Number(args[i + 1])
    if (!Number.isFinite(n) || n < min) throw new Error(`${name} needs a number ≥ ${min}, got "${args[i + 1] ?? ''}"`)
    return n
  }
  return {
    minutes: flag('--minutes', 30),
    dashboards: flag('--dashboards', 100),
    idleSeconds: flag('--idle-seconds', 60, 5),
    historyLimit: flag('--history-limit', 500),
    historyRows: flag('--history-rows', 20_000),
    json: args.includes('--json'),
  }
}

export interface Probe {
  rss: number
  heapUsed: number
  heapTotal: number
  external: number
  gc: boolean
  loopP99Ms: number
  loopMaxMs: number
}

/** A measured process: probes on demand through SIGUSR2, answered on its stdout. */
class Probed {
  private readonly waiting: Array<(probe: Probe) => void> = []

  constructor(readonly process: RunningChild) {
    createInterface({ input: process.child.stdout! }).on('line', (line) => {
      if (!line.startsWith('SOAK-PROBE ')) return
      this.waiting.shift()?.(JSON.parse(line.slice('SOAK-PROBE '.length)) as Probe)
    })
  }

  probe(): Promise<Probe> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no probe answer: ${this.process.tail()}`)), 30_000)
      this.waiting.push((probe) => {
        clearTimeout(timer)
        resolve(probe)
      })
      this.process.child.kill('SIGUSR2')
    })
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const progress = (message: string) => process.stderr.write(`[bench soak] ${message}\n`)
const mib = (bytes: number) => bytes / MiB

/** Idle: settled for `seconds`, then three probes 5 s apart; the lowest RSS and heap (a GC may be under way). */
async function idleFootprint(p: Probed, seconds: number): Promise<Probe> {
  await sleep(seconds * 1000)
  const probes: Probe[] = []
  for (let i = 0; i < 3; i++) {
    probes.push(await p.probe())
    if (i < 2) await sleep(5_000)
  }
  if (!probes.every((probe) => probe.gc)) throw new Error('the probe found no gc(): run node with --expose-gc')
  return {
    ...probes.at(-1)!,
    rss: Math.min(...probes.map((probe) => probe.rss)),
    heapUsed: Math.min(...probes.map((probe) => probe.heapUsed)),
  }
}

function buildService(): void {
  progress('building the service (tsc -p tsconfig.build.json): the built dist/ is what is measured')
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  })
}

async function startBare(): Promise<Probed> {
  return new Probed(
    await startChild({
      command: process.execPath,
      args: ['--expose-gc', '--import', PROBE, join(ROOT, 'bench/soak/bare-fastify.mjs')],
      ready: /listening on (http:\/\/\S+)/,
    }),
  )
}

async function startBuiltService(dir: string, plexUrl: string): Promise<{ url: string; probed: Probed }> {
  const child = await startChild({
    command: process.execPath,
    args: ['--expose-gc', '--import', PROBE, join(ROOT, 'dist/src/main.js')],
    cwd: dir,
    env: {
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      DATABASE_PATH: join(dir, 'komandorr.db'),
      PLEX_SERVER_URL: plexUrl,
      PLEX_SERVER_TOKEN: TOKEN,
      PLEX_TV_URL: plexUrl,
    },
    ready: /"port":(\d+).*komandorr-cache is listening/,
  })
  return { url: `http://127.0.0.1:${child.readyMatch}`, probed: new Probed(child) }
}

interface Minute {
  minute: number
  rssMiB: number
  heapMiB: number
  loopP99Ms: number
  loopMaxMs: number
  requests: number
  failed: number
  historyPages: number
}

/** One client reading watch history page after page, one request at a time, until stopped. */
async function pageHistory(
  url: string,
  limit: number,
  rows: number,
  stop: { done: boolean },
  count: { pages: number },
) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  let offset = 0
  while (!stop.done) {
    await new Promise<void>((resolve) => {
      http
        .get(`${url}/api/plex/watch-history?limit=${limit}&offset=${offset}`, { agent }, (res) => {
          res.resume()
          res.on('end', () => resolve())
        })
        .on('error', () => resolve())
    })
    count.pages++
    offset = offset + limit >= rows ? 0 : offset + limit
  }
  agent.destroy()
}

/** Growth after the warm-up: the mean of the last three minutes minus the minute the warm-up ends. */
function growth(minutes: Minute[], pick: (m: Minute) => number, warmupMinutes: number): number | null {
  const after = minutes.filter((m) => m.minute >= warmupMinutes)
  if (after.length < 2) return null
  const tail = after.slice(-3)
  return tail.reduce((sum, m) => sum + pick(m), 0) / tail.length - pick(after[0]!)
}

export async function main(argv: string[]): Promise<void> {
  const a = parseArgs(argv)
  const loadAtStart = os.loadavg()
  buildService()

  progress(`bare Fastify, idle ${a.idleSeconds} s`)
  const bare = await startBare()
  const bareIdle = await idleFootprint(bare, a.idleSeconds).finally(() => bare.process.stop())

  const sim = await startSimulator({ port: 0, token: TOKEN, seed: 1, items: 1_000, historyRows: a.historyRows })
  const dir = mkdtempSync(join(os.tmpdir(), 'komandorr-bench-soak-'))
  let service: { url: string; probed: Probed } | undefined
  try {
    service = await startBuiltService(dir, sim.url)
    progress(`service (built, Plex = simulator), idle ${a.idleSeconds} s`)
    const serviceIdle = await idleFootprint(service.probed, a.idleSeconds)

    const sync = await fetch(`${service.url}/api/plex/watch-history/sync`, { method: 'POST' })
    if (!sync.ok) throw new Error(`watch-history sync answered ${sync.status}`)
    progress(`load: ${a.dashboards} dashboards and one history pager for ${a.minutes} min`)
    const minutes: Minute[] = []
    const stop = { done: false }
    const pages = { pages: 0 }
    const pager = pageHistory(service.url, a.historyLimit, a.historyRows, stop, pages)
    let poll: PollRun | undefined
    const polling = pollLikeKomandorr({
      baseUrl: service.url,
      clients: a.dashboards,
      durationMs: a.minutes * 60_000,
      seed: 1,
      endpoints: SOAK_POLLING,
    }).then((run) => (poll = run))
    const startedAt = performance.now()
    let pagesBefore = 0
    for (let minute = 1; minute <= a.minutes; minute++) {
      await sleep(Math.max(0, startedAt + minute * 60_000 - performance.now()))
      const probe = await service.probed.probe()
      minutes.push({
        minute,
        rssMiB: mib(probe.rss),
        heapMiB: mib(probe.heapUsed),
        loopP99Ms: probe.loopP99Ms,
        loopMaxMs: probe.loopMaxMs,
        requests: 0,
        failed: 0,
        historyPages: pages.pages - pagesBefore,
      })
      pagesBefore = pages.pages
      progress(
        `minute ${minute}: RSS ${mib(probe.rss).toFixed(1)} MiB, heap ${mib(probe.heapUsed).toFixed(1)} MiB, loop p99 ${probe.loopP99Ms.toFixed(1)} ms`,
      )
    }
    await polling
    stop.done = true
    await pager
    for (const sample of poll!.samples) {
      const m = minutes[Math.min(minutes.length - 1, Math.floor(sample.sentAtMs / 60_000))]!
      m.requests++
      if (sample.status < 200 || sample.status >= 400) m.failed++
    }
    report(a, { bareIdle, serviceIdle, minutes, loadAtStart })
  } finally {
    await service?.probed.process.stop()
    await sim.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

function report(a: Args, r: { bareIdle: Probe; serviceIdle: Probe; minutes: Minute[]; loadAtStart: number[] }): void {
  const warmup = Math.min(5, Math.max(1, Math.floor(a.minutes / 2)))
  const rssGrowth = growth(r.minutes, (m) => m.rssMiB, warmup)
  const heapGrowth = growth(r.minutes, (m) => m.heapMiB, warmup)
  const idleRatio = r.serviceIdle.rss / r.bareIdle.rss
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' / ')
  console.log(
    `soak bench: ${a.dashboards} dashboards polling ${SOAK_POLLING.length} routes + 1 client paging watch history (limit ${a.historyLimit}) for ${a.minutes} min; ` +
      `built service and bare Fastify in fresh child processes (node --expose-gc, probe on SIGUSR2); Plex = simulator; ` +
      `Node ${process.version}, ${os.cpus().length} cores, load average ${load(r.loadAtStart)} at start, ${load(os.loadavg())} at end`,
  )
  console.log('')
  console.log('| idle (after settling) | RSS MiB | heap after GC MiB |')
  console.log('|---|---:|---:|')
  console.log(`| bare Fastify | ${mib(r.bareIdle.rss).toFixed(1)} | ${mib(r.bareIdle.heapUsed).toFixed(1)} |`)
  console.log(`| service | ${mib(r.serviceIdle.rss).toFixed(1)} | ${mib(r.serviceIdle.heapUsed).toFixed(1)} |`)
  console.log('')
  console.log(
    '| minute | RSS MiB | heap after GC MiB | loop delay p99 ms | loop max ms | requests | failed | history pages |',
  )
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const m of r.minutes)
    console.log(
      `| ${m.minute} | ${m.rssMiB.toFixed(1)} | ${m.heapMiB.toFixed(1)} | ${m.loopP99Ms.toFixed(1)} | ${m.loopMaxMs.toFixed(1)} | ${m.requests} | ${m.failed} | ${m.historyPages} |`,
    )
  const fmt = (v: number | null) => (v === null ? 'n/a (too short)' : `${v >= 0 ? '+' : ''}${v.toFixed(1)} MiB`)
  const verdicts = [
    {
      name: `heap after GC flat after minute ${warmup} (< 10 MiB)`,
      pass: heapGrowth !== null && heapGrowth < 10,
      detail: fmt(heapGrowth),
    },
    {
      name: `RSS flat after minute ${warmup} (< 10 MiB)`,
      pass: rssGrowth !== null && rssGrowth < 10,
      detail: fmt(rssGrowth),
    },
    { name: 'idle RSS ≤ 1.5x bare Fastify', pass: idleRatio <= 1.5, detail: `${idleRatio.toFixed(2)}x` },
  ]
  console.log('')
  for (const v of verdicts) console.log(`${v.pass ? 'PASS' : 'FAIL'}  ${v.name}: ${v.detail}`)
  if (a.json)
    console.log(
      JSON.stringify({
        bench: 'soak',
        minutes: a.minutes,
        dashboards: a.dashboards,
        bare_idle_rss_mib: Number(mib(r.bareIdle.rss).toFixed(1)),
        service_idle_rss_mib: Number(mib(r.serviceIdle.rss).toFixed(1)),
        bare_idle_heap_mib: Number(mib(r.bareIdle.heapUsed).toFixed(1)),
        service_idle_heap_mib: Number(mib(r.serviceIdle.heapUsed).toFixed(1)),
        idle_rss_ratio: Number(idleRatio.toFixed(3)),
        rss_growth_mib: rssGrowth === null ? null : Number(rssGrowth.toFixed(1)),
        heap_growth_mib: heapGrowth === null ? null : Number(heapGrowth.toFixed(1)),
        per_minute: r.minutes,
        targets: verdicts,
      }),
    )
}
