// A cache hit at full speed: autocannon on `/api/plex/sessions` through the service, beside a
// bare Fastify route and a plain node:http server (other child processes) answering the same
// body and headers. Rounds alternate between the three so that a burst of load from elsewhere
// hits all alike.
import autocannon from 'autocannon'
import http from 'node:http'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startChild, type RunningChild } from '../support/child-process.js'
import { cacheStats, type ServiceUnderTest } from './service.js'

const PATH = '/api/plex/sessions'
const DEFAULT_ROUNDS = 5
const WARMUP_SECONDS = 1
/** The headers of a cached answer that the bare route copies (Node adds Date, Connection, Keep-Alive to both). */
const COPIED_HEADERS = ['content-type', 'x-cache', 'age', 'etag'] as const

export interface LoadSide {
  requestsPerSec: number
  p50Ms: number
  p99Ms: number
  non2xx: number
  errors: number
  /**
   * CPU time (user + system) the server process spent per answered request over all rounds:
   * unlike req/s it barely moves when other processes compete for the cores. Null off Linux.
   */
  cpuMicrosPerRequest: number | null
  /** The lowest and highest round (req/s and p99 separately). */
  spread: { rpsMin: number; rpsMax: number; p99MinMs: number; p99MaxMs: number }
}

export interface HitPathResult {
  connections: number
  rounds: number
  secondsPerSide: number
  bodyBytes: number
  serviceHeaderBytes: number
  bareHeaderBytes: number
  service: LoadSide
  bare: LoadSide
  /** The same bytes from plain node:http, no framework. */
  nodeHttp: LoadSide
  /** service req/s ÷ bare req/s */
  throughputRatio: number
  /** service p99 ÷ bare p99 */
  p99Ratio: number
  /** service CPU per request ÷ bare CPU per request */
  cpuRatio: number | null
  /** service req/s ÷ node:http req/s */
  nodeHttpThroughputRatio: number
  /** Every side in fresh processes each round (else one process per side for all rounds). */
  freshProcesses: boolean
  /** plex_sessions counters over the whole comparison: a hit path measured as hits. */
  sessionsHits: number
  sessionsMisses: number
}

interface Captured {
  body: string
  headers: Record<string, string>
  headerBytes: number
  xCache: string | undefined
}

export interface HitPathOptions {
  connections: number
  /** Seconds per side, split over the rounds. */
  seconds: number
  rounds?: number
}

export async function compareHitPath(service: ServiceUnderTest, options: HitPathOptions): Promise<HitPathResult> {
  const roundCount = options.rounds ?? DEFAULT_ROUNDS
  const answer = await captureHit(service.url)
  const dir = mkdtempSync(join(tmpdir(), 'komandorr-bench-bare-'))
  const file = join(dir, 'answer.json')
  writeFileSync(file, JSON.stringify({ body: answer.body, headers: answer.headers }))
  const bare = await startChild({
    script: 'bench/api/bare-server.ts',
    args: [file, 'fastify'],
    ready: /listening on (http:\/\/\S+)/,
  })
  const plain = await startChild({
    script: 'bench/api/bare-server.ts',
    args: [file, 'node-http'],
    ready: /listening on (http:\/\/\S+)/,
  }).catch(async (error: unknown) => {
    await bare.stop()
    throw error
  })
  try {
    const bareAnswer = await capture(bare.readyMatch)
    const before = (await cacheStats(service)).get('plex_sessions')
    const run = (url: string, seconds: number) =>
      autocannon({ url: url + PATH, connections: options.connections, duration: seconds })
    const sides = [
      { url: service.url, pid: service.process.child.pid, rounds: [] as Round[] },
      { url: bare.readyMatch, pid: bare.child.pid, rounds: [] as Round[] },
      { url: plain.readyMatch, pid: plain.child.pid, rounds: [] as Round[] },
    ]
    for (const side of sides) await run(side.url, WARMUP_SECONDS)
    const perRound = Math.max(1, Math.round(options.seconds / roundCount))
    const measured = async (url: string, pid: number | undefined): Promise<Round> => {
      const cpuBefore = cpuMicrosOf(pid)
      const result = await run(url, perRound)
      const cpuAfter = cpuMicrosOf(pid)
      return { result, cpuMicros: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore }
    }
    for (let i = 0; i < roundCount; i++) {
      for (const side of sides) side.rounds.push(await measured(side.url, side.pid))
    }
    const after = (await cacheStats(service)).get('plex_sessions')
    const [svc, bareSide, plainSide] = sides.map((side) => combine(side.rounds)) as [LoadSide, LoadSide, LoadSide]
    return {
      connections: options.connections,
      rounds: roundCount,
      secondsPerSide: perRound * roundCount,
      bodyBytes: Buffer.byteLength(answer.body),
      serviceHeaderBytes: answer.headerBytes,
      bareHeaderBytes: bareAnswer.headerBytes,
      service: svc,
      bare: bareSide,
      nodeHttp: plainSide,
      throughputRatio: svc.requestsPerSec / bareSide.requestsPerSec,
      p99Ratio: svc.p99Ms / bareSide.p99Ms,
      cpuRatio:
        svc.cpuMicrosPerRequest === null || bareSide.cpuMicrosPerRequest === null
          ? null
          : svc.cpuMicrosPerRequest / bareSide.cpuMicrosPerRequest,
      nodeHttpThroughputRatio: svc.requestsPerSec / plainSide.requestsPerSec,
      freshProcesses: false,
      sessionsHits: (after?.hits ?? 0) - (before?.hits ?? 0),
      sessionsMisses: (after?.misses ?? 0) + (after?.coalesced ?? 0) - (before?.misses ?? 0) - (before?.coalesced ?? 0),
    }
  } finally {
    await Promise.all([bare.stop(), plain.stop()])
    rmSync(dir, { recursive: true, force: true })
  }
}

export interface Round {
  result: autocannon.Result
  cpuMicros: number | null
}

/** The median round: req/s and each latency percentile taken separately; CPU over all rounds. */
export function combine(rounds: Round[]): LoadSide {
  const results = rounds.map((r) => r.result)
  const median = (pick: (r: autocannon.Result) => number) => {
    const sorted = results.map(pick).sort((x, y) => x - y)
    const mid = sorted.length >> 1
    return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  }
  const sum = (pick: (r: autocannon.Result) => number) => results.reduce((total, r) => total + pick(r), 0)
  return {
    requestsPerSec: Math.round(median((r) => r.requests.average)),
    p50Ms: median((r) => r.latency.p50),
    p99Ms: median((r) => r.latency.p99),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors + r.timeouts),
    spread: {
      rpsMin: Math.round(Math.min(...results.map((r) => r.requests.average))),
      rpsMax: Math.round(Math.max(...results.map((r) => r.requests.average))),
      p99MinMs: Math.min(...results.map((r) => r.latency.p99)),
      p99MaxMs: Math.max(...results.map((r) => r.latency.p99)),
    },
    cpuMicrosPerRequest: rounds.every((r) => r.cpuMicros !== null)
      ? rounds.reduce((total, r) => total + r.cpuMicros!, 0) /
        Math.max(
          1,
          sum((r) => r.requests.total),
        )
      : null,
  }
}

const CLOCK_TICKS_PER_SECOND = 100

/** utime + stime of a process from /proc (Linux), in µs; null where that is not readable. */
export function cpuMicrosOf(pid: number | undefined): number | null {
  if (pid === undefined) return null
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS_PER_SECOND
  } catch {
    return null
  }
}

/** A HIT answer: the first read may load, and a push invalidation may drop the value between two reads. */
export async function captureHit(baseUrl: string): Promise<Captured> {
  let answer: Captured | undefined
  for (let attempt = 0; attempt < 10 && answer?.xCache !== 'HIT'; attempt++) answer = await capture(baseUrl)
  if (answer?.xCache !== 'HIT')
    throw new Error(`hit path: ${PATH} never answered X-Cache HIT in 10 reads (last: ${answer?.xCache})`)
  return answer
}

function capture(baseUrl: string): Promise<Captured> {
  return new Promise((resolve, reject) => {
    http
      .get(baseUrl + PATH, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          const headers: Record<string, string> = {}
          for (const name of COPIED_HEADERS) {
            const value = res.headers[name]
            if (typeof value === 'string') headers[name] = value
          }
          let headerBytes = 0
          for (let i = 0; i < res.rawHeaders.length; i += 2)
            headerBytes += res.rawHeaders[i]!.length + 2 + res.rawHeaders[i + 1]!.length + 2
          resolve({ body: Buffer.concat(chunks).toString('utf8'), headers, headerBytes, xCache: headers['x-cache'] })
        })
      })
      .on('error', reject)
  })
}

/**
 * The same comparison with every side in fresh processes each round: a new service (its sessions
 * value loaded), a new bare Fastify route and a new node:http server answering the bytes and
 * headers that service answered; each warmed up, measured in an order that rotates per round,
 * then stopped. The spread between processes is part of what is measured.
 */
export async function compareHitPathFresh(
  startService: () => Promise<ServiceUnderTest>,
  options: HitPathOptions,
): Promise<HitPathResult> {
  const roundCount = Math.max(3, options.rounds ?? DEFAULT_ROUNDS)
  const perRound = Math.max(1, Math.round(options.seconds / roundCount))
  const sides: Round[][] = [[], [], []]
  let answer: Captured | undefined
  let bareHeaderBytes = 0
  let hits = 0
  let misses = 0
  const run = (url: string, seconds: number) =>
    autocannon({ url: url + PATH, connections: options.connections, duration: seconds })
  for (let round = 0; round < roundCount; round++) {
    const service = await startService()
    const dir = mkdtempSync(join(tmpdir(), 'komandorr-bench-bare-'))
    const children: RunningChild[] = []
    try {
      answer = await captureHit(service.url)
      const file = join(dir, 'answer.json')
      writeFileSync(file, JSON.stringify({ body: answer.body, headers: answer.headers }))
      for (const kind of ['fastify', 'node-http'])
        children.push(
          await startChild({
            script: 'bench/api/bare-server.ts',
            args: [file, kind],
            ready: /listening on (http:\/\/\S+)/,
          }),
        )
      bareHeaderBytes = (await capture(children[0]!.readyMatch)).headerBytes
      const before = (await cacheStats(service)).get('plex_sessions')
      const targets = [
        { url: service.url, pid: service.process.child.pid },
        { url: children[0]!.readyMatch, pid: children[0]!.child.pid },
        { url: children[1]!.readyMatch, pid: children[1]!.child.pid },
      ]
      for (const target of targets) await run(target.url, WARMUP_SECONDS)
      for (let k = 0; k < targets.length; k++) {
        const i = (round + k) % targets.length
        const cpuBefore = cpuMicrosOf(targets[i]!.pid)
        const result = await run(targets[i]!.url, perRound)
        const cpuAfter = cpuMicrosOf(targets[i]!.pid)
        sides[i]!.push({ result, cpuMicros: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore })
      }
      const after = (await cacheStats(service)).get('plex_sessions')
      hits += (after?.hits ?? 0) - (before?.hits ?? 0)
      misses += (after?.misses ?? 0) + (after?.coalesced ?? 0) - (before?.misses ?? 0) - (before?.coalesced ?? 0)
    } finally {
      await Promise.all([service.stop(), ...children.map((child) => child.stop())])
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const [svc, bareSide, plainSide] = sides.map(combine) as [LoadSide, LoadSide, LoadSide]
  return {
    connections: options.connections,
    rounds: roundCount,
    secondsPerSide: perRound * roundCount,
    bodyBytes: Buffer.byteLength(answer!.body),
    serviceHeaderBytes: answer!.headerBytes,
    bareHeaderBytes,
    service: svc,
    bare: bareSide,
    nodeHttp: plainSide,
    throughputRatio: svc.requestsPerSec / bareSide.requestsPerSec,
    p99Ratio: svc.p99Ms / bareSide.p99Ms,
    cpuRatio:
      svc.cpuMicrosPerRequest === null || bareSide.cpuMicrosPerRequest === null
        ? null
        : svc.cpuMicrosPerRequest / bareSide.cpuMicrosPerRequest,
    nodeHttpThroughputRatio: svc.requestsPerSec / plainSide.requestsPerSec,
    freshProcesses: true,
    sessionsHits: hits,
    sessionsMisses: misses,
  }
}
