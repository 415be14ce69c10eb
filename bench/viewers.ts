// Viewers: what 50 polling viewers cost Plex beside the admin alone, and what a scoped hit costs
// beside an unscoped one (the cache core in a loop, and the service over HTTP with autocannon).
// `npm run bench -- viewers [--seconds N] [--rounds N] [--json]`
import autocannon from 'autocannon'
import { loadavg } from 'node:os'
import { createCacheRegistry, type Principal } from '../src/cache/index.js'
import { startSimulator } from '../sim/index.js'
import { difference, totalOf } from './api/plex-calls.js'
import { startService, type ServiceUnderTest } from './api/service.js'

const ADMIN = { user: 'admin', password: 'bench admin password' }
const VIEWERS = 50
/** Komandorr's dashboard polls its Plex panels every few seconds. */
const POLL_MS = 2_000
const POLLED = [
  '/api/plex/sessions',
  '/api/plex/activities',
  '/api/plex/watch-history?limit=50',
  '/api/plex/stats',
  '/api/plex/media/recent',
]

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

interface Args {
  seconds: number
  rounds: number
  json: boolean
}

function parseArgs(args: readonly string[]): Args {
  const value = (flag: string, fallback: number) => {
    const i = args.indexOf(flag)
    const n = i >= 0 ? Number(args[i + 1]) : fallback
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number`)
    return n
  }
  return { seconds: value('--seconds', 30), rounds: value('--rounds', 4), json: args.includes('--json') }
}

const progress = (line: string) => process.stderr.write(`${line}\n`)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls every path for each caller until `until`, each caller on its own schedule. */
async function poll(
  service: ServiceUnderTest,
  authorizations: readonly string[],
  untilMs: number,
): Promise<{ requests: number; failures: number }> {
  let requests = 0
  let failures = 0
  await Promise.all(
    authorizations.map(async (authorization, i) => {
      await sleep((i * POLL_MS) / authorizations.length)
      while (performance.now() < untilMs) {
        const started = performance.now()
        await Promise.all(
          POLLED.map(async (path) => {
            const response = await fetch(service.url + path, { headers: { authorization } })
            await response.arrayBuffer()
            requests++
            if (response.status !== 200) failures++
          }),
        )
        await sleep(Math.max(0, POLL_MS - (performance.now() - started)))
      }
    }),
  )
  return { requests, failures }
}

/**
 * One service in front of its own still simulator (nothing starts or stops by itself: Plex calls
 * come from the caches' TTLs and refresh-ahead alone), with the 20 streams and the viewer accounts.
 */
async function viewersSetup(viewerCount: number) {
  const sim = await startSimulator({
    port: 0,
    token: 'bench-viewers-token',
    seed: 7,
    items: 2000,
    sharedUsers: VIEWERS,
    speed: 0,
    liveSessions: false,
  })
  const service = await startService({
    plexUrl: sim.url,
    plexToken: sim.token,
    env: { ENABLE_AUTH: 'true', AUTH_USERNAME: ADMIN.user, AUTH_PASSWORD: ADMIN.password },
  }).catch(async (error: unknown) => {
    await sim.close()
    throw error
  })
  const admin = basic(ADMIN.user, ADMIN.password)
  const accounts = sim.control.state().accounts.filter((a) => a.id > 1)
  for (const account of accounts.slice(0, 20)) sim.control.startSession({ accountId: account.id })
  const viewers = await Promise.all(
    accounts.slice(0, viewerCount).map(async (account, i) => {
      const password = `viewer password ${i}`
      const response = await fetch(`${service.url}/api/viewers`, {
        method: 'POST',
        headers: { authorization: admin, 'content-type': 'application/json' },
        body: JSON.stringify({ username: `viewer${i}`, password, plex_account_id: account.id }),
      })
      if (response.status !== 201) throw new Error(`POST /api/viewers: ${response.status} ${await response.text()}`)
      return basic(`viewer${i}`, password)
    }),
  )
  await fetch(`${service.url}/api/plex/watch-history/sync`, { method: 'POST', headers: { authorization: admin } })
  return { sim, service, callers: [admin, ...viewers] }
}

/**
 * The admin alone and the admin with 50 viewers, side by side over the same seconds: two
 * services, each with its own simulator, started together and polled over the same window, so
 * that TTL expiries and refresh-ahead fall alike in both and any difference is the viewers'.
 */
async function plexCallsPerMinute(args: Args) {
  const alone = await viewersSetup(0)
  let shared
  try {
    shared = await viewersSetup(VIEWERS)
  } catch (error) {
    await alone.service.stop()
    await alone.sim.close()
    throw error
  }
  const setups = [alone, shared] as const
  try {
    progress(
      `admin alone beside admin + ${VIEWERS} viewers: polling ${POLLED.length} paths every ${POLL_MS / 1000} s for ${args.seconds} s, side by side`,
    )
    // A warm-up poll first, so that both measure the steady state, not the first loads.
    const warmUntil = performance.now() + POLL_MS * 2
    await Promise.all(setups.map((s) => poll(s.service, s.callers, warmUntil)))
    const before = setups.map((s) => s.sim.control.requestCounts())
    const load = loadavg()[0]!
    const until = performance.now() + args.seconds * 1000
    const polled = await Promise.all(setups.map((s) => poll(s.service, s.callers, until)))
    const [adminAlone, withViewers] = setups.map((s, i) => {
      const calls = difference(s.sim.control.requestCounts(), before[i]!)
      return {
        callers: s.callers.length,
        ...polled[i]!,
        plexCalls: totalOf(calls),
        plexCallsPerMinute: (totalOf(calls) * 60) / args.seconds,
        calls,
        loadAverage: load,
      }
    })
    await alone.service.stop()
    return {
      adminAlone: adminAlone!,
      withViewers: withViewers!,
      ratio: withViewers!.plexCallsPerMinute / Math.max(1, adminAlone!.plexCallsPerMinute),
      service: shared.service,
    }
  } catch (error) {
    await Promise.all(setups.map((s) => s.service.stop()))
    throw error
  } finally {
    await Promise.all(setups.map((s) => s.sim.close()))
  }
}

/** autocannon on one path with one caller's credentials. */
async function cannon(url: string, authorization: string, seconds: number) {
  const result = await autocannon({
    url: `${url}/api/plex/stats`,
    connections: 10,
    duration: seconds,
    headers: { authorization },
  })
  return { requestsPerSec: result.requests.average, non2xx: result.non2xx }
}

/** The same hit through HTTP for the admin (unscoped) and a viewer (scoped), rounds alternating. */
async function httpHits(args: Args, service: ServiceUnderTest) {
  const admin = basic(ADMIN.user, ADMIN.password)
  const viewer = basic('viewer0', 'viewer password 0')
  const perRound = Math.max(1, Math.round(args.seconds / 3 / args.rounds))
  progress(`HTTP hits: autocannon on /api/plex/stats, ${args.rounds} rounds of ${perRound} s per side`)
  await cannon(service.url, admin, 1)
  await cannon(service.url, viewer, 1)
  const unscoped: number[] = []
  const scoped: number[] = []
  let non2xx = 0
  for (let round = 0; round < args.rounds; round++) {
    const first = round % 2 === 0
    const a = first ? await cannon(service.url, admin, perRound) : undefined
    const v = await cannon(service.url, viewer, perRound)
    const b = first ? a! : await cannon(service.url, admin, perRound)
    unscoped.push(b.requestsPerSec)
    scoped.push(v.requestsPerSec)
    non2xx += b.non2xx + v.non2xx
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length
  return {
    unscopedPerSec: mean(unscoped),
    scopedPerSec: mean(scoped),
    ratio: mean(scoped) / mean(unscoped),
    non2xx,
    loadAverage: loadavg()[0]!,
  }
}

/** `peek()` against `peek(undefined, scope)` on one registry, rounds alternating. */
function coreHits(args: Args) {
  const registry = createCacheRegistry({})
  const sessions = registry.define<{ sessions: Array<{ user: number; title: string }> }>({
    name: 'plex_sessions',
    key: 'plex:sessions',
    ttlMs: 3_600_000,
    load: () => ({ sessions: Array.from({ length: 20 }, (_, i) => ({ user: i % 5, title: `session ${i}` })) }),
    scoped: {
      kind: 'view',
      view: (value, principal) => ({ sessions: value.sessions.filter((s) => String(s.user) === principal.id) }),
    },
  })
  return sessions.read().then(() => {
    const scope = registry.scope({ id: '3' } satisfies Principal)
    sessions.peek(undefined, scope)
    const N = 2_000_000
    const time = (read: () => unknown) => {
      const started = performance.now()
      for (let i = 0; i < N; i++) read()
      return N / ((performance.now() - started) / 1000)
    }
    const unscoped: number[] = []
    const scoped: number[] = []
    for (let round = 0; round < args.rounds * 2; round++) {
      unscoped.push(time(() => sessions.peek()))
      scoped.push(time(() => sessions.peek(undefined, scope)))
    }
    registry.close()
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
    return { unscopedPerSec: median(unscoped), scopedPerSec: median(scoped), ratio: median(scoped) / median(unscoped) }
  })
}

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv)
  const core = await coreHits(args)
  const calls = await plexCallsPerMinute(args)
  let http
  try {
    http = await httpHits(args, calls.service)
  } finally {
    await calls.service.stop()
  }
  const { service: _service, ...plex } = calls
  const result = { plex, core, http }
  if (args.json) {
    console.log(JSON.stringify(result, null, 2))
    return
  }
  const f = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 })
  console.log(`Plex calls per minute (polling every ${POLL_MS / 1000} s, ${args.seconds} s per phase)`)
  console.log(`| callers | requests | failures | Plex calls | per minute | load avg |`)
  console.log(`|---|---|---|---|---|---|`)
  for (const [label, p] of [
    ['admin alone', plex.adminAlone],
    [`admin + ${VIEWERS} viewers`, plex.withViewers],
  ] as const) {
    console.log(
      `| ${label} | ${p.requests} | ${p.failures} | ${p.plexCalls} | ${f(p.plexCallsPerMinute)} | ${p.loadAverage.toFixed(1)} |`,
    )
  }
  console.log(`ratio (with viewers / admin alone): ${plex.ratio.toFixed(2)} (target 1.0)`)
  console.log(`calls with viewers: ${JSON.stringify(plex.withViewers.calls)}`)
  console.log(`calls admin alone: ${JSON.stringify(plex.adminAlone.calls)}`)
  console.log('')
  console.log(`| hit | unscoped (admin) | scoped (viewer) | scoped / unscoped |`)
  console.log(`|---|---|---|---|`)
  console.log(`| core peek, ops/s | ${f(core.unscopedPerSec)} | ${f(core.scopedPerSec)} | ${core.ratio.toFixed(2)} |`)
  console.log(
    `| HTTP /api/plex/stats, req/s | ${f(http.unscopedPerSec)} | ${f(http.scopedPerSec)} | ${http.ratio.toFixed(2)} (target >= 0.9) |`,
  )
  console.log(`non-2xx during the HTTP rounds: ${http.non2xx}; load average ${http.loadAverage.toFixed(1)}`)
}
