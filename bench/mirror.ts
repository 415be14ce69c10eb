// The PMS mirror (PLEX_PROXY_PORT) under the load of a few Plex tools: five tools x 10 pollers,
// each asking sessions, activities, a history page and a library page every 2 s, once through
// the mirror and once directly against the simulator (fresh processes per side): PMS calls per
// path, latency of the answers; then the service's resident set during a 1 GiB pass-through,
// beside the same download taken directly.
// `npm run bench -- mirror [--seconds N] [--json]`
import { get } from 'node:http'
import { BIG_BODY_PATH, download, GiB, startBigBodyPms } from './mirror/big-body.js'
import { ready, startMirrorService } from './mirror/service.js'
import { startChild, type RunningChild } from './support/child-process.js'

const TOKEN = 'bench-mirror-token-2718'
const MiB = 1024 * 1024
const POLL_EVERY_MS = 2_000
const POLLERS_PER_TOOL = 10

/** Five tools, by the format they ask (Homepage, Tautulli and Organizr read XML; Homarr and Overseerr JSON). */
const TOOLS = [
  { name: 'homepage', json: false },
  { name: 'homarr', json: true },
  { name: 'tautulli', json: false },
  { name: 'overseerr', json: true },
  { name: 'organizr', json: false },
]

const PAGE = { 'X-Plex-Container-Start': '0', 'X-Plex-Container-Size': '50' }
const PATHS: ReadonlyArray<{ path: string; pattern: string; headers?: Record<string, string>; ttlEnv: number }> = [
  { path: '/status/sessions', pattern: '/status/sessions', ttlEnv: 5 },
  { path: '/activities', pattern: '/activities', ttlEnv: 5 },
  {
    path: '/status/sessions/history/all?sort=viewedAt:desc',
    pattern: '/status/sessions/history/all',
    headers: PAGE,
    ttlEnv: 60,
  },
  { path: '/library/sections/1/all?type=1', pattern: '/library/sections/:id/all', headers: PAGE, ttlEnv: 120 },
]

interface Side {
  readonly calls: Record<string, number>
  /** ms of every answer, and of the answers the mirror gave from its cache (X-Cache HIT). */
  readonly all: number[]
  readonly hits: number[]
  readonly failures: number
}

function ask(url: string, headers: Record<string, string>): Promise<{ ms: number; hit: boolean; ok: boolean }> {
  const started = performance.now()
  return new Promise((resolve) => {
    get(url, { headers }, (res) => {
      res.resume()
      res.on('end', () =>
        resolve({ ms: performance.now() - started, hit: res.headers['x-cache'] === 'HIT', ok: res.statusCode === 200 }),
      )
    }).on('error', () => resolve({ ms: performance.now() - started, hit: false, ok: false }))
  })
}

async function poll(base: string, seconds: number): Promise<Omit<Side, 'calls'>> {
  const all: number[] = []
  const hits: number[] = []
  let failures = 0
  const until = performance.now() + seconds * 1000
  const poller = async (json: boolean): Promise<void> => {
    await new Promise((resolve) => setTimeout(resolve, Math.random() * POLL_EVERY_MS))
    while (performance.now() < until) {
      const round = performance.now()
      await Promise.all(
        PATHS.map(async ({ path, headers }) => {
          const answer = await ask(base + path, {
            'X-Plex-Token': TOKEN,
            ...headers,
            ...(json ? { Accept: 'application/json' } : {}),
          })
          all.push(answer.ms)
          if (answer.hit) hits.push(answer.ms)
          if (!answer.ok) failures++
        }),
      )
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, POLL_EVERY_MS - (performance.now() - round))))
    }
  }
  await Promise.all(TOOLS.flatMap((tool) => Array.from({ length: POLLERS_PER_TOOL }, () => poller(tool.json))))
  return { all, hits, failures }
}

async function simulator(): Promise<{ url: string; child: RunningChild }> {
  // No live sessions: every call counted is a poller's (or the mirror's for one), none a reaction to new state.
  const child = await startChild({
    script: 'sim/cli/main.ts',
    args: ['--port', '0', '--token', TOKEN, '--items', '2000', '--history-rows', '500', '--no-live'],
    ready: /listening on (http:\/\/\S+)/,
  })
  return { url: child.readyMatch, child }
}

async function simCalls(url: string): Promise<Record<string, number>> {
  const res = await fetch(`${url}/__simulator/requests`)
  return ((await res.json()) as { counts: Record<string, number> }).counts
}

async function resetCalls(url: string): Promise<void> {
  await fetch(`${url}/__simulator/requests/reset`, { method: 'POST' })
}

async function pollingSide(through: 'mirror' | 'direct', seconds: number): Promise<Side> {
  const sim = await simulator()
  const mirror = through === 'mirror' ? await startMirrorService({ plexUrl: sim.url, plexToken: TOKEN }) : undefined
  try {
    // The service's own start-up calls (warm-up, the first history sync) are not the pollers'.
    if (mirror !== undefined) await ready(mirror)
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    await resetCalls(sim.url)
    const result = await poll(mirror?.url ?? sim.url, seconds)
    return { ...result, calls: await simCalls(sim.url) }
  } finally {
    await mirror?.stop()
    await sim.child.stop()
  }
}

async function passThroughSide(): Promise<{ direct: number; mirror: number; rssBefore: number; rssPeak: number }> {
  const pms = await startBigBodyPms(GiB, TOKEN)
  const service = await startMirrorService({ plexUrl: pms.url, plexToken: TOKEN })
  try {
    const direct = await download(`${pms.url}${BIG_BODY_PATH}`, TOKEN, undefined)
    await download(`${service.url}${BIG_BODY_PATH}?bytes=${64 * MiB}`, TOKEN, undefined)
    const run = await download(`${service.url}${BIG_BODY_PATH}`, TOKEN, service.process.child.pid)
    if (run.bytes !== GiB) throw new Error(`the pass-through gave ${run.bytes} bytes of ${GiB}`)
    return { direct: direct.seconds, mirror: run.seconds, rssBefore: run.rssBefore, rssPeak: run.rssPeak }
  } finally {
    await service.stop()
    await pms.close()
  }
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

export async function main(args: string[]): Promise<void> {
  const i = args.indexOf('--seconds')
  const seconds = i >= 0 ? Number(args[i + 1]) : 60
  if (!(seconds > 0)) throw new Error(`--seconds ${args[i + 1]} is not a positive number`)
  const asJson = args.includes('--json')

  const mirror = await pollingSide('mirror', seconds)
  const direct = await pollingSide('direct', seconds)
  const big = await passThroughSide()

  const rows = PATHS.map(({ pattern, ttlEnv }) => ({
    path: pattern,
    ttlSeconds: ttlEnv,
    // Two formats asked (XML and JSON): one key each.
    boundThroughMirror: 2 * (Math.ceil(seconds / ttlEnv) + 1),
    throughMirror: mirror.calls[pattern] ?? 0,
    direct: direct.calls[pattern] ?? 0,
  }))
  const report = {
    seconds,
    pollers: TOOLS.length * POLLERS_PER_TOOL,
    pmsCalls: rows,
    latencyMs: {
      mirrorHit: { n: mirror.hits.length, p50: percentile(mirror.hits, 50), p99: percentile(mirror.hits, 99) },
      mirrorAll: { n: mirror.all.length, p50: percentile(mirror.all, 50), p99: percentile(mirror.all, 99) },
      direct: { n: direct.all.length, p50: percentile(direct.all, 50), p99: percentile(direct.all, 99) },
    },
    failures: { mirror: mirror.failures, direct: direct.failures },
    passThrough1GiB: {
      rssGrowthMiB: (big.rssPeak - big.rssBefore) / MiB,
      rssBeforeMiB: big.rssBefore / MiB,
      seconds: big.mirror,
      directSeconds: big.direct,
    },
  }
  if (asJson) return void console.log(JSON.stringify(report, null, 2))

  console.log(`PMS mirror: ${report.pollers} pollers (5 tools x 10) every 2 s for ${seconds} s, simulator as PMS`)
  console.log(
    '| path | TTL | PMS calls through the mirror | bound (one per key per TTL, XML and JSON) | PMS calls directly |',
  )
  console.log('|---|---:|---:|---:|---:|')
  for (const row of rows)
    console.log(
      `| ${row.path} | ${row.ttlSeconds} s | ${row.throughMirror} | ${row.boundThroughMirror} | ${row.direct} |`,
    )
  const l = report.latencyMs
  const ms = (n: number) => n.toFixed(2)
  console.log('| answers | n | p50 ms | p99 ms |')
  console.log('|---|---:|---:|---:|')
  console.log(
    `| mirror, from its cache (target p99 < 5 ms) | ${l.mirrorHit.n} | ${ms(l.mirrorHit.p50)} | ${ms(l.mirrorHit.p99)} |`,
  )
  console.log(`| mirror, every answer | ${l.mirrorAll.n} | ${ms(l.mirrorAll.p50)} | ${ms(l.mirrorAll.p99)} |`)
  console.log(`| PMS directly (baseline) | ${l.direct.n} | ${ms(l.direct.p50)} | ${ms(l.direct.p99)} |`)
  console.log(`failed answers: mirror ${report.failures.mirror}, direct ${report.failures.direct}`)
  const p = report.passThrough1GiB
  console.log(
    `1 GiB pass-through: service RSS +${p.rssGrowthMiB.toFixed(1)} MiB (from ${p.rssBeforeMiB.toFixed(0)} MiB; target < 32 MB), ${p.seconds.toFixed(1)} s through the mirror vs ${p.directSeconds.toFixed(1)} s directly`,
  )
}
