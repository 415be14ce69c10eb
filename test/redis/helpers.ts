import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, afterEach } from 'vitest'
import type { CacheRegistry } from '../../src/cache/index.js'
import {
  createRedisLayer,
  type RedisLayer,
  type RedisLayerOptions,
  type RedisSettings,
} from '../../src/cache/redis/index.js'
import { eventually, sleep } from '../support/eventually.js'

/** The shared test Redis: REDIS_URL or 127.0.0.1:6379. */
export const SHARED_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/**
 * The environment of one of several service instances sharing a Redis (under `keyPrefix`), an
 * SQLite file in `dir` and a simulator as Plex and plex.tv; `extra` adds or overrides settings.
 */
export function instanceEnv(
  shared: { redisUrl: string; keyPrefix: string; dir: string; plexUrl: string; plexToken: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    REDIS_URL: shared.redisUrl,
    REDIS_KEY_PREFIX: shared.keyPrefix,
    REDIS_TIMEOUT_MS: '1000',
    DATABASE_PATH: join(shared.dir, 'komandorr.db'),
    PLEX_SERVER_URL: shared.plexUrl,
    PLEX_SERVER_TOKEN: shared.plexToken,
    PLEX_TV_URL: shared.plexUrl,
    ...extra,
  }
}

/** A key prefix no other test (or engineer) uses. */
export function uniquePrefix(what: string): string {
  return `test:redis:${what}:${randomBytes(4).toString('hex')}:`
}

/**
 * Settings for a layer on the shared Redis. The deadline is generous: two cores run several
 * test files at once, and a 50 ms deadline would open breakers where these tests want none.
 */
export function sharedSettings(keyPrefix: string, overrides: Partial<RedisSettings> = {}): RedisSettings {
  return {
    url: SHARED_REDIS_URL,
    host: '127.0.0.1',
    port: 6379,
    db: 0,
    password: null,
    keyPrefix,
    timeoutMs: 1_000,
    ...overrides,
  }
}

/** A raw client for looking at what the layer wrote. */
export function rawClient(url = SHARED_REDIS_URL): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1 })
}

/** Deletes every key under `prefix` on the shared Redis. */
export async function cleanUp(prefix: string): Promise<void> {
  const redis = rawClient()
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await redis.unlink(...keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}

/** Layers opened by a test file, closed after each test. */
export class Layers {
  private readonly open: RedisLayer[] = []

  /** A layer whose connection is up. */
  async create(settings: RedisSettings, options: RedisLayerOptions = {}): Promise<RedisLayer> {
    const layer = this.createUnconnected(settings, options)
    if (!(await layer.whenConnected(10_000)))
      throw new Error(`the Redis layer on ${settings.url ?? settings.port} did not connect within 10 s`)
    return layer
  }

  createUnconnected(settings: RedisSettings, options: RedisLayerOptions = {}): RedisLayer {
    const layer = createRedisLayer(settings, options)
    this.open.push(layer)
    return layer
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.open.splice(0).map((layer) => layer.close()))
  }
}

/**
 * What one test file opens on the shared Redis: layers and registries closed and key prefixes
 * deleted after each test, and a raw client for looking at keys, disconnected after the file.
 */
export function redisTestScope() {
  const layers = new Layers()
  const registries: CacheRegistry[] = []
  const prefixes: string[] = []
  const raw = rawClient()
  afterEach(async () => {
    for (const registry of registries.splice(0)) registry.close()
    await layers.closeAll()
    await Promise.all(prefixes.splice(0).map(cleanUp))
  })
  afterAll(() => raw.disconnect())
  return {
    layers,
    registries,
    raw,
    /** A fresh key prefix, deleted after the test. */
    prefix(what: string): string {
      const p = uniquePrefix(what)
      prefixes.push(p)
      return p
    },
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0))
    })
  })
}

/** A private redis-server for drills that kill or pause it; never the shared 6379. */
export class PrivateRedis {
  private process: ChildProcess | undefined

  private constructor(
    readonly port: number,
    private readonly extraArgs: readonly string[],
  ) {}

  static async start(extraArgs: readonly string[] = []): Promise<PrivateRedis> {
    const server = new PrivateRedis(await freePort(), extraArgs)
    await server.restart()
    return server
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  settings(keyPrefix: string, overrides: Partial<RedisSettings> = {}): RedisSettings {
    return { url: this.url, host: '127.0.0.1', port: this.port, db: 0, password: null, keyPrefix, ...overrides }
  }

  /** Starts the server (again, on the same port) and waits until it answers. */
  async restart(): Promise<void> {
    if (this.process !== undefined) throw new Error(`redis-server on ${this.port} is already running`)
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.extraArgs],
      {
        stdio: 'ignore',
      },
    )
    this.process = child
    child.once('exit', () => {
      if (this.process === child) this.process = undefined
    })
    await waitForPing(this.port)
  }

  /** Whether the server process is up (a test that failed midway may have left it killed). */
  get running(): boolean {
    return this.process !== undefined
  }

  /** SIGKILL: connections drop at once. */
  async kill(): Promise<void> {
    const child = this.process
    if (child === undefined) return
    this.process = undefined
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }

  /** SIGSTOP: connections stay open and nothing answers. */
  pause(): void {
    this.process?.kill('SIGSTOP')
  }

  resume(): void {
    this.process?.kill('SIGCONT')
  }

  async stop(): Promise<void> {
    this.resume()
    await this.kill()
  }
}

async function waitForPing(port: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const probe = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      enableOfflineQueue: false,
    })
    probe.on('error', () => {})
    try {
      await probe.connect()
      await probe.ping()
      return
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`)
      await sleep(20)
    } finally {
      probe.disconnect()
    }
  }
}

/** Three private masters in a Redis Cluster, in a temp directory, torn down by `stop`. */
export class PrivateCluster {
  private constructor(
    readonly nodes: readonly PrivateRedis[],
    private readonly dir: string,
  ) {}

  static async start(): Promise<PrivateCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'))
    const nodes: PrivateRedis[] = []
    try {
      for (let i = 0; i < 3; i++) {
        nodes.push(
          await PrivateRedis.start([
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, `nodes-${i}.conf`),
            '--cluster-node-timeout',
            '2000',
            '--dir',
            dir,
          ]),
        )
      }
      const created = spawnSync(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...nodes.map((node) => `127.0.0.1:${node.port}`),
          '--cluster-replicas',
          '0',
          '--cluster-yes',
        ],
        { encoding: 'utf8', timeout: 20_000 },
      )
      if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`)
      const cluster = new PrivateCluster(nodes, dir)
      await cluster.waitUntilOk()
      return cluster
    } catch (error) {
      await Promise.all(nodes.map((node) => node.stop()))
      rmSync(dir, { recursive: true, force: true })
      throw error
    }
  }

  settings(keyPrefix: string, overrides: Partial<RedisSettings> = {}): RedisSettings {
    return {
      url: null,
      host: '127.0.0.1',
      port: this.nodes[0]!.port,
      db: 0,
      password: null,
      keyPrefix,
      timeoutMs: 1_000,
      clusterNodes: this.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
      ...overrides,
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()))
    rmSync(this.dir, { recursive: true, force: true })
  }

  private async waitUntilOk(): Promise<void> {
    await eventually(
      'every cluster node reports cluster_state:ok',
      async () => {
        const states = await Promise.all(
          this.nodes.map(async (node) => {
            const client = new Redis({ port: node.port, host: '127.0.0.1', maxRetriesPerRequest: 0 })
            try {
              return ((await client.cluster('INFO')) as string).includes('cluster_state:ok')
            } finally {
              client.disconnect()
            }
          }),
        )
        return states.every(Boolean)
      },
      15_000,
    )
  }
}

/** Keys under `prefix` on one server, by SCAN. */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000)
    cursor = next
    found.push(...keys)
  } while (cursor !== '0')
  return found.sort()
}

/** A Redis Sentinel (redis-server --sentinel) watching `master` as `name`, from a temp dir. */
export class PrivateSentinel {
  private constructor(
    readonly port: number,
    private readonly process: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(master: PrivateRedis, name = 'mymaster'): Promise<PrivateSentinel> {
    const dir = mkdtempSync(join(tmpdir(), 'redis-sentinel-'))
    const port = await freePort()
    const conf = join(dir, 'sentinel.conf')
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${master.port} 1`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 3000`,
      ].join('\n'),
    )
    const child = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' })
    await waitForPing(port)
    return new PrivateSentinel(port, child, dir)
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.process.once('exit', resolve))
    this.process.kill('SIGKILL')
    await exited
    rmSync(this.dir, { recursive: true, force: true })
  }
}
