// A cache hit at full speed: autocannon on `/api/plex/sessions` through the service, beside a
// bare Fastify route (another child process) answering the same body and headers. Rounds
// alternate between the two so that a burst of load from elsewhere hits both alike.
import autocannon from 'autocannon'
import http from 'node:http'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startChild } from './_api-child.js'
import { cacheStats, type ServiceUnderTest } from './_api-service.js'

const PATH = '/api/plex/sessions'
const ROUNDS = 5
const WARMUP_SECONDS = 1
/** The headers of a cached answer that the bare route copies (Node adds Date, Connection, Keep-Alive to both). */
const COPIED_HEADERS = ['content-type', 'x-cache', 'age', 'etag'] as const

export interface LoadSide {
  requestsPerSec: number
  p50Ms: number
  p99Ms: number
  non2xx: number
  errors: number
}

export interface HitPathResult {
  connections: number
  secondsPerSide: number
  bodyBytes: number
  serviceHeaderBytes: number
  bareHeaderBytes: number
  service: LoadSide
  bare: LoadSide
  /** service req/s ÷ bare req/s */
  throughputRatio: number
  /** service p99 ÷ bare p99 */
  p99Ratio: number
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

export async function compareHitPath(service: ServiceUnderTest, options: { connections: number; seconds: number }): Promise<HitPathResult> {
  const answer = await captureHit(service.url)
  const dir = mkdtempSync(join(tmpdir(), 'komandorr-bench-bare-'))
  const file = join(dir, 'answer.json')
  writeFileSync(file, JSON.stringify({ body: answer.body, headers: answer.headers }))
  const bare = await startChild({ script: 'bench/_api-bare-server.ts', args: [file], ready: /listening on (http:\/\/\S+)/ })
  try {
    const bareAnswer = await capture(bare.readyMatch)
    const before = (await cacheStats(service)).get('plex_sessions')
    const run = (url: string, seconds: number) => autocannon({ url: url + PATH, connections: options.connections, duration: seconds })
    await run(service.url, WARMUP_SECONDS)
    await run(bare.readyMatch, WARMUP_SECONDS)
    const rounds: { service: autocannon.Result[]; bare: autocannon.Result[] } = { service: [], bare: [] }
    const perRound = Math.max(1, Math.round(options.seconds / ROUNDS))
    for (let i = 0; i < ROUNDS; i++) {
      rounds.service.push(await run(service.url, perRound))
      rounds.bare.push(await run(bare.readyMatch, perRound))
    }
    const after = (await cacheStats(service)).get('plex_sessions')
    const svc = combine(rounds.service)
    const bareSide = combine(rounds.bare)
    return {
      connections: options.connections,
      secondsPerSide: perRound * ROUNDS,
      bodyBytes: Buffer.byteLength(answer.body),
      serviceHeaderBytes: answer.headerBytes,
      bareHeaderBytes: bareAnswer.headerBytes,
      service: svc,
      bare: bareSide,
      throughputRatio: svc.requestsPerSec / bareSide.requestsPerSec,
      p99Ratio: svc.p99Ms / bareSide.p99Ms,
      sessionsHits: (after?.hits ?? 0) - (before?.hits ?? 0),
      sessionsMisses: (after?.misses ?? 0) + (after?.coalesced ?? 0) - (before?.misses ?? 0) - (before?.coalesced ?? 0),
    }
  } finally {
    await bare.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The median round: req/s and each latency percentile taken separately. */
function combine(results: autocannon.Result[]): LoadSide {
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
  }
}

/** A HIT answer: the first read may load, and a push invalidation may drop the value between two reads. */
async function captureHit(baseUrl: string): Promise<Captured> {
  let answer: Captured | undefined
  for (let attempt = 0; attempt < 10 && answer?.xCache !== 'HIT'; attempt++) answer = await capture(baseUrl)
  if (answer?.xCache !== 'HIT') throw new Error(`hit path: ${PATH} never answered X-Cache HIT in 10 reads (last: ${answer?.xCache})`)
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
          for (let i = 0; i < res.rawHeaders.length; i += 2) headerBytes += res.rawHeaders[i]!.length + 2 + res.rawHeaders[i + 1]!.length + 2
          resolve({ body: Buffer.concat(chunks).toString('utf8'), headers, headerBytes, xCache: headers['x-cache'] })
        })
      })
      .on('error', reject)
  })
}
