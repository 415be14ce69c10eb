// Failed logins cost the caller (issue 20): signed-in dashboards (the admin and a viewer polling
// the sessions hit) beside 50 connections of wrong Basic credentials, with the service's login
// limits (defaults), with them lifted (no limit in practice, as before them), and beside no
// attackers at all: password checks (scrypt) a second, and the signed-in p99. Fresh service
// processes on each side. `npm run bench -- logins [--seconds N] [--connections N] [--json]`.
import { randomBytes } from 'node:crypto'
import { percentiles } from '../src/cache/index.js'
import { startService, type ServiceUnderTest } from './api/service.js'
import { startChild, type RunningChild } from './support/child-process.js'

const TOKEN = 'bench-logins-token'
const ADMIN = { user: 'admin', password: randomBytes(12).toString('hex') }
const VIEWER = { user: 'viewer', password: randomBytes(12).toString('hex') }
const SIGNED_IN_CLIENTS = 4
const PAUSE_MS = 25
/** The issue's targets under 50 connections of wrong credentials. */
const CHECKS_PER_SECOND_TARGET = 10
const P99_RATIO_TARGET = 1.5
/** What "no limits" means here: bounds no attack of this bench reaches. */
const NO_LIMITS = {
  LOGIN_FAILURES_PER_CLIENT: '1000000',
  LOGIN_FAILURES_PER_SECOND: '1000000',
  LOGIN_CHECK_CONCURRENCY: '64',
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
const progress = (message: string) => process.stderr.write(`[bench logins] ${message}\n`)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Side {
  side: string
  checksPerSecond: number
  signedIn: { requests: number; failed: number; p50Ms: number | null; p99Ms: number | null }
  attackerAnswers: Record<string, number> | null
}

async function checksSoFar(service: ServiceUnderTest): Promise<number> {
  const text = await (
    await fetch(`${service.url}/metrics`, { headers: { authorization: basic(ADMIN.user, ADMIN.password) } })
  ).text()
  return Number(/^login_password_checks_total (\d+)/m.exec(text)?.[1] ?? NaN)
}

async function pollSignedIn(
  url: string,
  authorization: string,
  until: number,
  samples: number[],
  failures: { n: number },
) {
  while (performance.now() < until) {
    const started = performance.now()
    try {
      const response = await fetch(`${url}/api/plex/sessions`, { headers: { authorization } })
      await response.arrayBuffer()
      if (response.ok) samples.push(performance.now() - started)
      else failures.n++
    } catch {
      failures.n++
    }
    await sleep(PAUSE_MS)
  }
}

async function runSide(
  plexUrl: string,
  label: string,
  seconds: number,
  connections: number,
  env: Record<string, string> | null,
): Promise<Side> {
  const service = await startService({
    plexUrl,
    plexToken: TOKEN,
    env: { ENABLE_AUTH: 'true', AUTH_USERNAME: ADMIN.user, AUTH_PASSWORD: ADMIN.password, ...(env ?? {}) },
  })
  let attackers: RunningChild | undefined
  try {
    const admin = basic(ADMIN.user, ADMIN.password)
    const made = await fetch(`${service.url}/api/viewers`, {
      method: 'POST',
      headers: { authorization: admin, 'content-type': 'application/json' },
      body: JSON.stringify({ username: VIEWER.user, password: VIEWER.password, plex_account_id: 1 }),
    })
    if (made.status !== 201) throw new Error(`POST /api/viewers answered ${made.status}`)
    // Signed in before the attack (a first sign-in is a password check like any other).
    const viewer = basic(VIEWER.user, VIEWER.password)
    for (const authorization of [admin, viewer])
      await (await fetch(`${service.url}/api/plex/sessions`, { headers: { authorization } })).arrayBuffer()
    if (env !== null) {
      attackers = await startChild({
        script: 'bench/logins/attackers.ts',
        args: [service.url, String(connections), String(seconds + 2), VIEWER.user],
        ready: /attackers ready/,
      })
    }
    await sleep(1_000)
    const before = await checksSoFar(service)
    const started = performance.now()
    const until = started + seconds * 1000
    const samples: number[] = []
    const failures = { n: 0 }
    await Promise.all(
      Array.from({ length: SIGNED_IN_CLIENTS }, (_, i) =>
        pollSignedIn(service.url, i % 2 === 0 ? admin : viewer, until, samples, failures),
      ),
    )
    const checksPerSecond = ((await checksSoFar(service)) - before) / ((performance.now() - started) / 1000)
    let attackerAnswers: Record<string, number> | null = null
    if (attackers !== undefined) {
      await attackers.exited
      const line = attackers
        .tail()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{'))
      attackerAnswers = line === undefined ? null : (JSON.parse(line) as Record<string, number>)
    }
    const p = percentiles(samples)
    const round = (v: number | undefined) => (v === undefined ? null : Number(v.toFixed(2)))
    return {
      side: label,
      checksPerSecond: Number(checksPerSecond.toFixed(1)),
      signedIn: { requests: samples.length, failed: failures.n, p50Ms: round(p?.p50), p99Ms: round(p?.p99) },
      attackerAnswers,
    }
  } finally {
    await attackers?.stop()
    await service.stop()
  }
}

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name)
  return i < 0 ? fallback : Number(args[i + 1])
}

export async function main(args: string[]): Promise<void> {
  const seconds = flag(args, '--seconds', 30)
  const connections = flag(args, '--connections', 50)
  const sim = await startChild({
    script: 'sim/cli/main.ts',
    args: ['--port', '0', '--token', TOKEN, '--seed', '3', '--items', '500', '--speed', '0'],
    ready: /listening on (http:\/\/\S+)/,
  })
  try {
    const sides: Side[] = []
    for (const [label, env] of [
      ['no attackers', null],
      [`${connections} attackers, login limits (defaults)`, {}],
      [`${connections} attackers, limits lifted`, NO_LIMITS],
    ] as const) {
      progress(`${label}: ${seconds} s`)
      sides.push(await runSide(sim.readyMatch, label, seconds, connections, env))
    }
    const [quiet, limited, lifted] = sides as [Side, Side, Side]
    console.log(`logins: ${SIGNED_IN_CLIENTS} signed-in clients polling the sessions hit, ${seconds} s per side`)
    console.log('| side | password checks/s | signed-in p50 / p99 (ms) | attackers answered |')
    console.log('|---|---|---|---|')
    for (const s of sides) {
      const answers =
        s.attackerAnswers === null
          ? '-'
          : Object.entries(s.attackerAnswers)
              .map(([k, v]) => `${v}× ${k}`)
              .join(', ')
      console.log(
        `| ${s.side} | ${s.checksPerSecond} | ${s.signedIn.p50Ms ?? '-'} / ${s.signedIn.p99Ms ?? '-'} (${s.signedIn.requests}) | ${answers} |`,
      )
    }
    const ratio = quiet.signedIn.p99Ms && limited.signedIn.p99Ms ? limited.signedIn.p99Ms / quiet.signedIn.p99Ms : NaN
    console.log(
      `targets with limits: ≤ ~${CHECKS_PER_SECOND_TARGET} checks/s (${limited.checksPerSecond}), signed-in p99 ≤ ${P99_RATIO_TARGET}x the quiet side (${ratio.toFixed(2)}x); limits lifted: ${lifted.checksPerSecond} checks/s`,
    )
    if (args.includes('--json')) console.log(JSON.stringify(sides))
  } finally {
    await sim.stop()
  }
}
