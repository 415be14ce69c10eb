// Fair under load (issue 20): the p99 of `/api/health` and of a cached sessions hit while 8
// clients page the watch history at limit=5000 (60,000 rows synced from the simulator), beside
// the same probes with no heavy clients, each side on a fresh service process over a copy of one
// synced database. `npm run bench -- fairness [--seconds N] [--clients N] [--rows N] [--limit N]
// [--redis] [--json]`; with --redis the services share the Redis at REDIS_URL (or
// 127.0.0.1:6379) under a random key prefix.
import { randomBytes } from 'node:crypto'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { percentiles } from '../src/cache/index.js'
import { startService, type ServiceUnderTest } from './api/service.js'
import { startChild, type RunningChild } from './support/child-process.js'

const TOKEN = 'bench-fairness-token'
/** The issue's target for both probes while the history is paged. */
const P99_TARGET_MS = 20
/** Pause between two requests of a probe: ~40 a second each, light next to the pagers. */
const PROBE_PAUSE_MS = 25

interface Args {
  seconds: number
  clients: number
  rows: number
  limit: number
  redis: boolean
  json: boolean
}

function parseArgs(args: string[]): Args {
  const flag = (name: string, fallback: number): number => {
    const i = args.indexOf(name)
    if (i < 0) return fallback
    const n = Number(args[i + 1])
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a whole number ≥ 1, got "${args[i + 1] ?? ''}"`)
    return n
  }
  return {
    seconds: flag('--seconds', 30),
    clients: flag('--clients', 8),
    rows: flag('--rows', 60_000),
    limit: flag('--limit', 5_000),
    redis: args.includes('--redis'),
    json: args.includes('--json'),
  }
}

const progress = (message: string) => process.stderr.write(`[bench fairness] ${message}\n`)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface ProbeSummary {
  requests: number
  failed: number
  p50Ms: number | null
  p99Ms: number | null
  maxMs: number | null
}

/** Requests `path` one after another until `until`, timing each answer whole. */
async function probe(url: string, path: string, until: number, expectHit: boolean): Promise<ProbeSummary> {
  const samples: number[] = []
  let failed = 0
  while (performance.now() < until) {
    const started = performance.now()
    try {
      const response = await fetch(url + path)
      await response.arrayBuffer()
      const ok = response.ok && (!expectHit || response.headers.get('x-cache') === 'HIT')
      if (ok) samples.push(performance.now() - started)
      else failed++
    } catch {
      failed++
    }
    await sleep(PROBE_PAUSE_MS)
  }
  const p = percentiles(samples)
  const round = (v: number | undefined) => (v === undefined ? null : Number(v.toFixed(2)))
  return {
    requests: samples.length,
    failed,
    p50Ms: round(p?.p50),
    p99Ms: round(p?.p99),
    maxMs: samples.length === 0 ? null : round(Math.max(...samples)),
  }
}

interface PagerCounts {
  ok: number
  refused: number
  failed: number
  bytes: number
}

interface SideResult {
  side: string
  health: ProbeSummary
  sessions: ProbeSummary
  pages: PagerCounts | null
}

/** A service on its own copy of the synced database, its sessions cache warm. */
async function freshService(
  plexUrl: string,
  database: string,
  a: Args,
  redisPrefix: string,
): Promise<ServiceUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'komandorr-bench-fairness-side-'))
  const copy = join(dir, 'komandorr.db')
  copyFileSync(database, copy)
  const service = await startService({
    plexUrl,
    plexToken: TOKEN,
    env: {
      DATABASE_PATH: copy,
      ...(a.redis
        ? { REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: redisPrefix }
        : {}),
    },
  })
  const stop = service.stop.bind(service)
  // The history worker starts with the first page (under tsx it compiles its sources first).
  const first = await fetch(`${service.url}/api/plex/watch-history?limit=1`)
  if (first.status !== 200) throw new Error(`the first history page answered ${first.status}: ${await first.text()}`)
  await first.arrayBuffer()
  for (let i = 0; i < 100; i++) {
    const response = await fetch(`${service.url}/api/plex/sessions`)
    await response.arrayBuffer()
    if (response.headers.get('x-cache') === 'HIT') break
    await sleep(100)
  }
  return {
    ...service,
    async stop() {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function runSide(plexUrl: string, database: string, a: Args, heavy: boolean): Promise<SideResult> {
  const service = await freshService(plexUrl, database, a, `bench:fairness:${randomBytes(4).toString('hex')}:`)
  let pagers: RunningChild | undefined
  try {
    // The probes start a second after the pagers and stop a second before them.
    if (heavy) {
      pagers = await startChild({
        script: 'bench/fairness/history-pagers.ts',
        args: [service.url, String(a.clients), String(a.seconds + 2), String(a.limit), String(a.rows)],
        ready: /pagers ready/,
      })
    }
    await sleep(1_000)
    const until = performance.now() + a.seconds * 1000
    const [health, sessions] = await Promise.all([
      probe(service.url, '/api/health', until, false),
      probe(service.url, '/api/plex/sessions', until, true),
    ])
    let pages: PagerCounts | null = null
    if (pagers !== undefined) {
      await pagers.exited
      const line = pagers
        .tail()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{'))
      pages = line === undefined ? null : (JSON.parse(line) as PagerCounts)
    }
    return {
      side: heavy ? `${a.clients} clients paging history` : 'baseline (no heavy clients)',
      health,
      sessions,
      pages,
    }
  } finally {
    await pagers?.stop()
    await service.stop()
  }
}

/** Syncs the simulator's history once into an SQLite file that every side copies. */
async function syncedDatabase(plexUrl: string, dir: string): Promise<string> {
  const database = join(dir, 'synced.db')
  const service = await startService({ plexUrl, plexToken: TOKEN, env: { DATABASE_PATH: database } })
  try {
    const started = performance.now()
    const result = await service.postJson<{ added: number }>('/api/plex/watch-history/sync')
    progress(`synced ${result.added} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  } finally {
    // A clean stop folds the WAL back into the file.
    await service.stop()
  }
  return database
}

const fmt = (s: ProbeSummary) =>
  `p50 ${s.p50Ms ?? '-'} / p99 ${s.p99Ms ?? '-'} / max ${s.maxMs ?? '-'} ms (${s.requests}${s.failed ? `, ${s.failed} failed` : ''})`

export async function main(args: string[]): Promise<void> {
  const a = parseArgs(args)
  const dir = mkdtempSync(join(tmpdir(), 'komandorr-bench-fairness-'))
  const sim = await startChild({
    script: 'sim/cli/main.ts',
    args: [
      '--port',
      '0',
      '--token',
      TOKEN,
      '--seed',
      '7',
      '--items',
      '3000',
      '--history-rows',
      String(a.rows),
      '--speed',
      '0',
    ],
    ready: /listening on (http:\/\/\S+)/,
  })
  try {
    progress(`simulator at ${sim.readyMatch}; syncing ${a.rows} history rows`)
    const database = await syncedDatabase(sim.readyMatch, dir)
    progress(`baseline: ${a.seconds} s of probes alone`)
    const baseline = await runSide(sim.readyMatch, database, a, false)
    progress(`loaded: ${a.seconds} s of probes beside ${a.clients} clients paging at limit=${a.limit}`)
    const loaded = await runSide(sim.readyMatch, database, a, true)
    const pages = loaded.pages
    console.log(`fairness: ${a.rows} rows, limit=${a.limit}, ${a.seconds} s per side${a.redis ? ', with Redis' : ''}`)
    console.log('| probe | baseline (no heavy clients) | beside the pagers | target |')
    console.log('|---|---|---|---|')
    console.log(`| /api/health | ${fmt(baseline.health)} | ${fmt(loaded.health)} | p99 < ${P99_TARGET_MS} ms |`)
    console.log(`| sessions hit | ${fmt(baseline.sessions)} | ${fmt(loaded.sessions)} | p99 < ${P99_TARGET_MS} ms |`)
    if (pages !== null) {
      console.log(
        `| history pages | - | ${pages.ok} served (${(pages.bytes / 1e6).toFixed(0)} MB, ${(pages.ok / a.seconds).toFixed(1)}/s), ${pages.refused} refused (429), ${pages.failed} failed | |`,
      )
    }
    const met = [loaded.health.p99Ms, loaded.sessions.p99Ms].every((p) => p !== null && p < P99_TARGET_MS)
    console.log(`target (both p99 < ${P99_TARGET_MS} ms beside the pagers): ${met ? 'met' : 'NOT met'}`)
    if (a.json) console.log(JSON.stringify({ args: a, baseline, loaded }))
  } finally {
    await sim.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
