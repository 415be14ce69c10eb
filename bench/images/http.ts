// The image route of the service, measured over HTTP: Plex image requests when 100 browsers open
// the dashboards cold at once, and hit latency / throughput from memory and from disk beside
// @fastify/static serving the same file.
import fastifyStatic from '@fastify/static'
import autocannon from 'autocannon'
import Fastify from 'fastify'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startSimulator } from '../../sim/index.js'
import { percentiles } from '../../src/cache/index.js'
import { loadConfig } from '../../src/config.js'
import { CACHES } from '../../src/features/caches/index.js'
import { buildApp } from '../../src/http/app.js'
import { appDeps } from '../../src/http/routes/index.js'
import { createRuntime } from '../../src/runtime.js'
import { random } from './traces.js'

const TOKEN = 'bench-images-token-0001'

interface Service {
  readonly url: string
  close(): Promise<void>
}

/** The service in this process (its own temp folder for SQLite and images). */
async function startService(env: Record<string, string>): Promise<Service> {
  const dir = mkdtempSync(path.join(tmpdir(), 'komandorr-bench-images-'))
  const config = loadConfig(
    {
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      DATABASE_PATH: path.join(dir, 'komandorr.db'),
      ...env,
    },
    CACHES,
  )
  const runtime = await createRuntime(config)
  const app = buildApp(appDeps(runtime))
  await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    async close() {
      await app.close()
      await runtime.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Every image a dashboard answer references (the frontend wraps each in the proxy URL). */
function imageUrls(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) imageUrls(item, found)
  else if (value !== null && typeof value === 'object') {
    for (const [key, field] of Object.entries(value)) {
      if ((key === 'thumb' || key === 'art' || key === 'poster') && typeof field === 'string' && field !== '')
        found.add(field)
      else imageUrls(field, found)
    }
  }
  return found
}

export interface ColdDashboards {
  readonly browsers: number
  readonly distinctImages: number
  readonly imageRequestsToPlex: number
  readonly withoutCache: number
}

/**
 * 100 browsers open the activity (sessions) and recent-media pages at once with every cache cold,
 * then load every image those pages show. Counts the simulator's image requests.
 */
export async function coldDashboards(browsers: number): Promise<ColdDashboards> {
  const sim = await startSimulator({ port: 0, token: TOKEN, seed: 7, items: 2_000, speed: 0, liveSessions: true })
  // The simulator also plays plex.tv (it serves the accounts' avatars), under another origin.
  const plexTv = sim.url.replace('127.0.0.1', 'localhost')
  const service = await startService({ PLEX_SERVER_URL: sim.url, PLEX_SERVER_TOKEN: TOKEN, PLEX_TV_URL: plexTv })
  try {
    sim.control.resetCounts()
    const seen = await Promise.all(
      Array.from({ length: browsers }, async () => {
        const pages = await Promise.all(
          ['/api/plex/sessions', '/api/plex/media/recent'].map(async (p) => (await fetch(service.url + p)).json()),
        )
        const urls = [...imageUrls(pages)].map((url) => url.replace(/^https:\/\/plex\.tv/, plexTv))
        // A browser loads 6 at a time from one host.
        const queue = [...urls]
        await Promise.all(
          Array.from({ length: 6 }, async () => {
            for (let url = queue.shift(); url !== undefined; url = queue.shift()) {
              const response = await fetch(`${service.url}/api/plex/proxy/image?url=${encodeURIComponent(url)}`)
              if (response.status !== 200 || (await response.arrayBuffer()).byteLength === 0)
                throw new Error(`${url}: ${response.status}`)
            }
          }),
        )
        return urls
      }),
    )
    const distinct = new Set(seen.flat()).size
    const counts = sim.control.requestCounts()
    const imageRequests = Object.entries(counts)
      .filter(([endpoint]) => /\/(thumb|art|avatar|composite)\b|:\/resources/.test(endpoint))
      .reduce((sum, [, n]) => sum + n, 0)
    return {
      browsers,
      distinctImages: distinct,
      imageRequestsToPlex: imageRequests,
      withoutCache: seen.reduce((sum, urls) => sum + urls.length, 0),
    }
  } finally {
    await service.close()
    await sim.close()
  }
}

export interface Served {
  readonly name: string
  readonly p50Ms: number
  readonly p99Ms: number
  readonly requestsPerSecond: number
}

/**
 * One poster of `bytes` served three ways: the proxy answering from memory, the proxy answering
 * from disk (IMAGE_CACHE_MEMORY_BYTES=1 keeps nothing in memory), and @fastify/static serving the
 * same bytes from a file. A stand-in Plex server (node:http) holds the poster.
 */
export async function servingCosts(options: {
  bytes: number
  sequential: number
  seconds: number
  connections: number
}): Promise<Served[]> {
  const rand = random(11)
  const poster = Buffer.from(Array.from({ length: options.bytes }, () => Math.floor(rand() * 256)))
  const posterPath = '/library/metadata/1/thumb/1700000000'
  const plex = createServer((req, res) => {
    if (req.url === posterPath) res.writeHead(200, { 'content-type': 'image/jpeg' }).end(poster)
    else res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => plex.listen(0, '127.0.0.1', resolve))
  const plexUrl = `http://127.0.0.1:${(plex.address() as AddressInfo).port}`
  const staticDir = mkdtempSync(path.join(tmpdir(), 'komandorr-bench-static-'))
  mkdirSync(path.join(staticDir, 'img'))
  writeFileSync(path.join(staticDir, 'img', 'poster.jpg'), poster)
  const staticApp = Fastify()
  await staticApp.register(fastifyStatic, { root: staticDir })
  await staticApp.listen({ host: '127.0.0.1', port: 0 })
  const staticUrl = `http://127.0.0.1:${(staticApp.server.address() as AddressInfo).port}/img/poster.jpg`
  const memory = await startService({ PLEX_SERVER_URL: plexUrl, PLEX_SERVER_TOKEN: TOKEN })
  const disk = await startService({ PLEX_SERVER_URL: plexUrl, PLEX_SERVER_TOKEN: TOKEN, IMAGE_CACHE_MEMORY_BYTES: '1' })
  const proxied = (base: string) => `${base}/api/plex/proxy/image?url=${encodeURIComponent(posterPath)}`
  const targets = [
    { name: 'proxy, memory hit', url: proxied(memory.url) },
    { name: 'proxy, disk hit', url: proxied(disk.url) },
    { name: '@fastify/static, same file', url: staticUrl },
  ]
  try {
    for (const target of targets) {
      const response = await fetch(target.url)
      const body = Buffer.from(await response.arrayBuffer())
      if (!body.equals(poster)) throw new Error(`${target.name} answered other bytes (${response.status})`)
    }
    // Sequential latency, interleaved in rounds so that a busy moment of the machine hits all three.
    const samples = targets.map(() => [] as number[])
    const rounds = 10
    for (let round = 0; round < rounds; round++) {
      for (const [i, target] of targets.entries()) {
        for (let n = 0; n < options.sequential / rounds; n++) {
          const start = performance.now()
          const response = await fetch(target.url)
          await response.arrayBuffer()
          samples[i]!.push(performance.now() - start)
        }
      }
    }
    // Throughput: three interleaved rounds per target, the median round.
    const rates = targets.map(() => [] as number[])
    for (let round = 0; round < 3; round++) {
      for (const [i, target] of targets.entries()) {
        const run = await autocannon({ url: target.url, connections: options.connections, duration: options.seconds })
        if (run.non2xx > 0 || run.errors > 0)
          throw new Error(`${target.name}: ${run.non2xx} non-2xx answers, ${run.errors} errors`)
        rates[i]!.push(run.requests.average)
      }
    }
    return targets.map((target, i) => {
      const p = percentiles(samples[i]!)!
      const sorted = [...rates[i]!].sort((a, b) => a - b)
      return { name: target.name, p50Ms: p.p50, p99Ms: p.p99, requestsPerSecond: sorted[1]! }
    })
  } finally {
    await memory.close()
    await disk.close()
    await staticApp.close()
    await new Promise<void>((resolve) => plex.close(() => resolve()))
    rmSync(staticDir, { recursive: true, force: true })
  }
}
