// The route fuzz suite: generated hostile and careless requests over every route, seeded and
// repeatable (FUZZ_SEED=<n> repeats a run, FUZZ_CASES=<n> changes its size). What it holds: no
// 5xx, every 4xx with a `detail`, the image proxy never reaches a listener on loopback, and the
// service still answers afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawExchange } from '../api/raw-socket.js'
import { closedPortUrl, startTarget, type PlexApp, type Target, startService } from '../support/api-harness.js'
import { generateCase, prng, type FuzzCase } from './generate.js'

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))
const CASES = Number(process.env.FUZZ_CASES ?? 1_600)
const CONCURRENCY = 8

interface Outcome {
  readonly case: FuzzCase
  readonly status: number | undefined
  readonly detail: unknown
  readonly ms: number
}

describe(`route fuzz (FUZZ_SEED=${SEED})`, () => {
  let t: PlexApp
  let canary: Target

  beforeAll(async () => {
    canary = await startTarget((_req, res) => void res.writeHead(200, { 'content-type': 'image/png' }).end('canary'))
    t = await startService({
      plex: true,
      env: { MONITOR_INTERVAL: '3600', MONITOR_TIMEOUT: '1' },
      sim: { historyRows: 200 },
    })
    for (const id of ['fuzz-a', 'fuzz-b']) {
      t.runtime.repos.services.insert(
        id,
        { name: id, url: await closedPortUrl(), type: 'app', description: null, icon: null, group: null },
        0,
      )
    }
  })
  afterAll(async () => {
    await t?.close()
    await canary?.close()
  })

  async function send(c: FuzzCase): Promise<Outcome> {
    const started = performance.now()
    const outcome = await exchange(c)
    return { ...outcome, ms: performance.now() - started }
  }

  async function exchange(c: FuzzCase): Promise<Omit<Outcome, 'ms'>> {
    if (c.kind === 'raw') {
      const exchange = await rawExchange(
        t.url,
        [c.request.replaceAll('{host}', `Host: ${new URL(t.url).host}\r\n`)],
        3_000,
        { untilResponse: true },
      )
      return { case: c, status: exchange.status, detail: exchange.body?.detail }
    }
    const response = await fetch(`${t.url}${c.path}`, { method: c.method, headers: c.headers, body: c.body })
    const text = await response.text()
    let detail: unknown
    try {
      detail = (JSON.parse(text) as { detail?: unknown }).detail
    } catch {
      detail = undefined
    }
    return { case: c, status: response.status, detail }
  }

  it(
    `answers ${CASES} generated requests with no 5xx and a detail on every 4xx, and the image proxy never reaches loopback`,
    { timeout: 90_000 },
    async () => {
      const random = prng(SEED)
      const closedPort = Number(new URL(await closedPortUrl()).port)
      const targets = { serviceIds: ['fuzz-a', 'fuzz-b'], canaryPort: Number(new URL(canary.url).port), closedPort }
      const cases = Array.from({ length: CASES }, () => generateCase(random, targets))

      const started = performance.now()
      const outcomes: Outcome[] = []
      let next = 0
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < cases.length) outcomes.push(await send(cases[next++]!))
        }),
      )
      const seconds = (performance.now() - started) / 1000

      const byStatus = new Map<string, number>()
      for (const o of outcomes)
        byStatus.set(String(o.status ?? 'closed'), (byStatus.get(String(o.status ?? 'closed')) ?? 0) + 1)
      const describeCase = (o: Outcome) => ({
        status: o.status,
        ...(o.case.kind === 'raw'
          ? { raw: o.case.request.slice(0, 120) }
          : { method: o.case.method, path: o.case.path.slice(0, 160), body: o.case.body?.slice(0, 160) }),
      })
      const serverErrors = outcomes.filter((o) => o.status !== undefined && o.status >= 500).map(describeCase)
      const isHead = (o: Outcome) => o.case.kind === 'fetch' && o.case.method === 'HEAD'
      const withoutDetail = outcomes
        .filter(
          (o) =>
            o.status !== undefined &&
            o.status >= 400 &&
            o.status < 500 &&
            !isHead(o) &&
            (typeof o.detail !== 'string' || o.detail === ''),
        )
        .map(describeCase)
      // CONNECT and Upgrade have no handler here: Node closes those sockets without an answer.
      const noHandler = (o: Outcome) =>
        o.case.kind === 'raw' &&
        (o.case.request.startsWith('CONNECT ') || o.case.request.includes('Upgrade: websocket'))
      const unanswered = outcomes.filter((o) => o.status === undefined && !noHandler(o)).map(describeCase)
      const unhandled = t.logLines.filter((line) => line.includes('unhandled error'))

      console.log(
        `fuzz: seed ${SEED}, ${outcomes.length} cases (${cases.filter((c) => c.kind === 'raw').length} raw) in ${seconds.toFixed(1)} s; ` +
          `statuses ${JSON.stringify(Object.fromEntries([...byStatus].sort()))}; canary requests ${canary.requests}`,
      )
      const slowest = [...outcomes].sort((a, b) => b.ms - a.ms).slice(0, 3)
      console.log(
        `fuzz: slowest ${slowest.map((o) => `${Math.round(o.ms)} ms ${JSON.stringify(describeCase(o)).slice(0, 140)}`).join(' | ')}`,
      )
      expect(outcomes).toHaveLength(CASES)
      expect(serverErrors).toEqual([])
      expect(withoutDetail).toEqual([])
      expect(unanswered).toEqual([])
      expect(unhandled).toEqual([])
      expect(canary.requests).toBe(0)
      expect((await fetch(`${t.url}/api/health`)).status).toBe(200)
    },
  )
})
