// Three instances on three "hosts" (network namespaces joined by veth pairs to a bridge), one
// PostgreSQL and one Redis reached over the bridge's address, the simulator as Plex. Where
// namespaces are refused (not root, no `ip`), three local processes stand in, and the test name
// and output say so.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomInt } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer, connect, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../sim/index.js'
import { createThrowawayDatabase, type ThrowawayDatabase } from '../support/databases.js'
import { sleep } from '../support/eventually.js'

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url))
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
const TOKEN = 'drill-token-5150'
const DB_PASSWORD = 'drill-db-secret-77'
const REDIS_PASSWORD = 'drill-redis-secret-88'
const tag = randomBytes(2).toString('hex')
const subnet = `10.213.${randomInt(1, 250)}`
const bridge = `kmdbr${tag}`
const hub = `${subnet}.1`

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' })
}

/** Makes the bridge and three namespaces; false (nothing left behind) where that is refused. */
function makeHosts(): boolean {
  try {
    ip('link', 'add', bridge, 'type', 'bridge')
  } catch {
    return false
  }
  ip('addr', 'add', `${hub}/24`, 'dev', bridge)
  ip('link', 'set', bridge, 'up')
  for (const n of [1, 2, 3]) {
    const ns = `kmd${tag}h${n}`
    ip('netns', 'add', ns)
    ip('link', 'add', `kmd${tag}v${n}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
    ip('link', 'set', `kmd${tag}v${n}`, 'master', bridge)
    ip('link', 'set', `kmd${tag}v${n}`, 'up')
    ip('-n', ns, 'addr', 'add', `${subnet}.1${n}/24`, 'dev', 'eth0')
    ip('-n', ns, 'link', 'set', 'eth0', 'up')
    ip('-n', ns, 'link', 'set', 'lo', 'up')
  }
  return true
}

function removeHosts(): void {
  for (const n of [1, 2, 3]) {
    // The kernel frees a namespace's veth lazily: delete our end now, then the namespace.
    for (const args of [
      ['link', 'del', `kmd${tag}v${n}`],
      ['netns', 'del', `kmd${tag}h${n}`],
    ]) {
      try {
        ip(...args)
      } catch {
        // already gone
      }
    }
  }
  try {
    ip('link', 'del', bridge)
  } catch {
    // already gone
  }
}

const namespaces = makeHosts()
const mode = namespaces
  ? 'network namespaces over veth'
  : 'FALLBACK: three local processes (network namespaces refused here)'
/** Where the instances reach PostgreSQL, Redis and Plex. */
const serviceHost = namespaces ? hub : '127.0.0.1'

interface Instance {
  readonly name: string
  readonly process: ChildProcess
  readonly output: () => string
  url: string
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await Promise.resolve()
      .then(probe)
      .catch((error: unknown) => {
        if (error instanceof Error && error.message.includes(' exited: ')) throw error
        return undefined
      })
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(100)
  }
}

async function historyKeys(instance: Instance): Promise<string | undefined> {
  const response = await fetch(`${instance.url}/api/plex/watch-history?limit=3`, { signal: AbortSignal.timeout(2_000) })
  if (response.status !== 200) return undefined
  const rows = (await response.json()) as Array<{ viewed_at: string; title: string; user_id: number }>
  return JSON.stringify(rows.map((r) => [r.viewed_at, r.title, r.user_id]))
}

const syncLines = (instance: Instance) =>
  instance
    .output()
    .split('\n')
    .filter((line) => line.includes('watch history synced')).length

describe(`several hosts on one PostgreSQL (${mode})`, () => {
  let dir: string
  let database: ThrowawayDatabase
  let sim: RunningSimulator
  let redis: ChildProcess
  let forwarder: Server
  const instances: Instance[] = []
  let pgPort: number
  const redisPort = 20_000 + randomInt(0, 10_000)

  beforeAll(async () => {
    console.log(`hosts drill: ${mode}`)
    dir = mkdtempSync(join(tmpdir(), 'komandorr-drill-'))
    database = await createThrowawayDatabase()
    sim = await startSimulator({
      port: 0,
      host: serviceHost,
      token: TOKEN,
      seed: 11,
      items: 200,
      historyRows: 500,
      speed: 0,
      liveSessions: false,
    })
    // PostgreSQL listens on 127.0.0.1 only: a forwarder on the bridge's address is the "database host".
    forwarder = createServer((socket) => {
      const upstream = connect(5432, '127.0.0.1')
      socket.pipe(upstream).pipe(socket)
      socket.on('error', () => upstream.destroy())
      upstream.on('error', () => socket.destroy())
    })
    await new Promise<void>((resolve) => forwarder.listen(0, serviceHost, resolve))
    pgPort = (forwarder.address() as { port: number }).port
    redis = spawn(
      'redis-server',
      [
        '--bind',
        serviceHost,
        '--port',
        String(redisPort),
        '--requirepass',
        REDIS_PASSWORD,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    )
    const dbUrl = new URL(database.url)
    dbUrl.hostname = serviceHost
    dbUrl.port = String(pgPort)
    dbUrl.password = DB_PASSWORD // trust auth ignores it; no log line may show it
    for (const n of [1, 2, 3]) {
      const data = join(dir, `host${n}`)
      const env = {
        PATH: process.env.PATH ?? '',
        HOST: namespaces ? '0.0.0.0' : '127.0.0.1',
        PORT: namespaces ? '8000' : '0',
        LOG_LEVEL: 'info',
        DATABASE_URL: dbUrl.toString(),
        DATABASE_PATH: join(data, 'unused.db'),
        DATABASE_POOL_SIZE: '3',
        REDIS_URL: `redis://:${REDIS_PASSWORD}@${serviceHost}:${redisPort}`,
        REDIS_KEY_PREFIX: `drill${tag}:`,
        REDIS_LEADER_LEASE: '2',
        REDIS_TIMEOUT_MS: '200',
        PLEX_SERVER_URL: sim.url,
        PLEX_SERVER_TOKEN: TOKEN,
        PLEX_TV_URL: sim.url,
        WATCH_HISTORY_SYNC_INTERVAL: '1',
        CACHE_WATCH_HISTORY_TTL: '1',
        MONITOR_INTERVAL: '3600',
        STATS_REFRESH_INTERVAL: '3600',
      }
      const command = namespaces
        ? ['ip', ['netns', 'exec', `kmd${tag}h${n}`, process.execPath, '--import', TSX_LOADER, MAIN]]
        : [process.execPath, ['--import', TSX_LOADER, MAIN]]
      const child = spawn(command[0] as string, command[1] as string[], {
        env,
        cwd: tmpdir(),
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let output = ''
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
      instances.push({ name: `host${n}`, process: child, output: () => output, url: '' })
    }
    await Promise.all(
      instances.map(async (instance, i) => {
        const port = await until(
          `${instance.name} to listen`,
          () => {
            if (instance.process.exitCode !== null) throw new Error(`${instance.name} exited: ${instance.output()}`)
            return /"port":(\d+),.*komandorr-cache is listening/.exec(instance.output())?.[1]
          },
          50_000,
        )
        instance.url = namespaces ? `http://${subnet}.1${i + 1}:8000` : `http://127.0.0.1:${port}`
      }),
    )
  }, 75_000)

  afterAll(async () => {
    for (const instance of instances) if (instance.process.exitCode === null) instance.process.kill('SIGKILL')
    redis?.kill('SIGKILL')
    forwarder?.close()
    await sim?.close()
    removeHosts()
    await database?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it("every host answers the leader's sync; a killed leader is replaced; a host cut off leaves the others going", async () => {
    const started = Date.now()
    // Every instance reads the same rows: the ones the leader synced.
    const first = await until(
      'the three hosts to answer the same synced history',
      async () => {
        const seen = await Promise.all(instances.map(historyKeys))
        return seen[0] !== undefined && seen[0] !== '[]' && seen.every((s) => s === seen[0]) ? seen[0] : undefined
      },
      20_000,
    )
    expect(JSON.parse(first)).toHaveLength(3)
    for (const instance of instances) {
      expect(instance.output()).not.toContain(DB_PASSWORD)
      expect(instance.output()).not.toContain(REDIS_PASSWORD)
    }

    // The leader is the one syncing: its log grows a line a second.
    const counts = instances.map(syncLines)
    await sleep(2_500)
    const leader = instances.find((instance, i) => syncLines(instance) > counts[i]!)
    expect(leader, 'one host runs the sync').toBeDefined()
    expect(instances.filter((instance, i) => syncLines(instance) > counts[i]!)).toHaveLength(1)

    leader!.process.kill('SIGKILL')
    const survivors = instances.filter((instance) => instance !== leader)
    sim.control.advance(60)
    const play = sim.control.startSession({ kind: 'movie', accountId: 1 })
    sim.control.advance(30)
    sim.control.stopSession(play.sessionKey)
    const afterKill = await until(
      'another host to take over and sync the new play',
      async () => {
        const seen = await Promise.all(survivors.map(historyKeys))
        return seen[0] !== undefined && seen[0] !== first && seen.every((s) => s === seen[0]) ? seen[0] : undefined
      },
      15_000,
    )

    // Cut one survivor off the network (or freeze it, in the fallback): the other goes on alone.
    const [cut, remaining] = survivors as [Instance, Instance]
    if (namespaces) ip('link', 'set', `kmd${tag}v${instances.indexOf(cut) + 1}`, 'down')
    else cut.process.kill('SIGSTOP')
    sim.control.advance(60)
    const another = sim.control.startSession({ kind: 'movie', accountId: 1 })
    sim.control.advance(30)
    sim.control.stopSession(another.sessionKey)
    await until(
      'the remaining host to sync and answer the next play',
      async () => {
        const seen = await historyKeys(remaining)
        return seen !== undefined && seen !== afterKill ? seen : undefined
      },
      15_000,
    )
    const health = (await (await fetch(`${remaining.url}/api/health`)).json()) as { database: string }
    expect(health.database).toBe('ok')
    if (!namespaces) cut.process.kill('SIGCONT')
    console.log(
      `hosts drill (${mode}): sync seen everywhere, leader replaced, one host cut; ${Date.now() - started} ms after start-up`,
    )
  }, 60_000)
})
