// The one builder of a service under test (`startService`): the real app on port 0 over an
// in-memory SQLite, with or without the Plex simulator as its Plex server, on the system clock or
// a ManualClock; or `src/main.ts` as a child process. And small real HTTP servers to stand in for
// monitored services.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { ManualClock } from '../../src/cache/index.js'
import { loadConfig } from '../../src/config.js'
import { CACHES } from '../../src/features/caches/index.js'
import { buildApp } from '../../src/http/app.js'
import { appDeps } from '../../src/http/routes/index.js'
import { createLogger, LogSecrets } from '../../src/logger.js'
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime.js'
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../sim/index.js'
import { sleep } from './eventually.js'
import { ServiceProcess } from './service-process.js'

/** How to start the service under test: in this process (the default) or as a child process. */
export interface ServiceOptions {
  /** Environment of the service (TTLs, auth...); in process over an in-memory SQLite unless it says otherwise. */
  readonly env?: Record<string, string | undefined>
  /** The Plex simulator (frozen clock, no sessions of its own) as the Plex server and as plex.tv. */
  readonly plex?: boolean
  readonly sim?: SimulatorOptions
  /** With `plex`: point PLEX_SERVER_URL/TOKEN at the simulator. Default true; false leaves only plex.tv. */
  readonly configured?: boolean
  /** The service's clock (caches, jobs, stored times): time moves only when the test says. */
  readonly clock?: ManualClock
  /** `beforeListen` may add routes (e.g. to test route options). */
  readonly runtime?: RuntimeOptions & { beforeListen?: (app: FastifyInstance) => void }
}

/** `src/main.ts` as a child process, for drills that kill it or run several instances. */
export interface ChildServiceOptions {
  readonly process: 'child'
  readonly env: Record<string, string>
}

export interface TestApp {
  readonly url: string
  readonly app: FastifyInstance
  readonly runtime: Runtime
  /** Every log line written so far (JSON), for tests about what gets logged. */
  readonly logLines: string[]
  close(): Promise<void>
}

export interface PlexApp extends TestApp {
  readonly sim: RunningSimulator
  /** GET (or any method) against the app, relative to its base URL. */
  fetch(path: string, init?: RequestInit): Promise<Response>
  /** Requests the simulator counted per endpoint pattern. */
  counts(): Record<string, number>
}

export interface ClockedPlexApp extends PlexApp {
  /** The service's clock (caches, jobs, stored times): moves only when told. */
  readonly clock: ManualClock
}

/** The one builder of a service under test. */
export function startService(options: ChildServiceOptions): Promise<ServiceProcess>
export function startService(options: ServiceOptions & { plex: true; clock: ManualClock }): Promise<ClockedPlexApp>
export function startService(options: ServiceOptions & { plex: true }): Promise<PlexApp>
export function startService(options?: ServiceOptions): Promise<TestApp>
export async function startService(
  options: ServiceOptions | ChildServiceOptions = {},
): Promise<TestApp | PlexApp | ClockedPlexApp | ServiceProcess> {
  if ('process' in options) return ServiceProcess.start(options.env)
  const runtime = options.clock === undefined ? options.runtime : { ...options.runtime, clock: options.clock }
  if (!options.plex) return startInProcess(options.env ?? {}, runtime ?? {})
  const app = await startWithSimulator({ ...options, runtime })
  return options.clock === undefined ? app : { ...app, clock: options.clock }
}

async function startInProcess(
  env: Record<string, string | undefined>,
  options: RuntimeOptions & { beforeListen?: (app: FastifyInstance) => void },
): Promise<TestApp> {
  const config = loadConfig({ DATABASE_PATH: ':memory:', LOG_LEVEL: 'debug', MONITOR_TIMEOUT: '5', ...env }, CACHES)
  const logLines: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      done()
    },
  })
  const logSecrets = options.logSecrets ?? new LogSecrets()
  const logger = options.logger ?? createLogger({ level: config.logLevel, destination, secrets: logSecrets })
  const runtime = await createRuntime(config, { ...options, logger, logSecrets })
  const app = buildApp(appDeps(runtime))
  options.beforeListen?.(app)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    runtime,
    logLines,
    async close() {
      await app.close()
      await runtime.close()
    },
  }
}

/** The SQLite handle under a test app (the API tests run on SQLite), for checks below the repositories. */
export function sqliteOf(t: { runtime: Runtime }) {
  const raw = t.runtime.database.database.sqlite
  if (!raw) throw new Error('this test reads the SQLite file directly; it runs on SQLite only')
  return raw
}

export interface Target {
  readonly url: string
  /** Requests received so far. */
  readonly requests: number
  close(): Promise<void>
}

/** A real HTTP server; `handle` answers (it may wait). */
export async function startTarget(
  handle: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
): Promise<Target> {
  let requests = 0
  const server: Server = createServer((req, res) => {
    requests++
    void Promise.resolve(handle(req, res)).catch(() => res.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export const answering = (status: number) =>
  startTarget((_req, res) => void res.writeHead(status, { 'content-type': 'text/plain' }).end('ok'))

/** Answers 200 after `delayMs`. */
export const slow = (delayMs: number) =>
  startTarget(async (_req, res) => {
    await sleep(delayMs)
    if (!res.destroyed) res.writeHead(200).end('late')
  })

/** A port nothing listens on (bound, then released). */
export async function closedPortUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}

// Response bodies are asserted field by field; typing each one would only repeat the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function json(response: Response): Promise<any> {
  return response.json()
}

export const jsonInit = (method: string, body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
})

export const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
})

/** Long enough for the logger to hide it (it ignores secrets under 6 characters). */
export const PLEX_TOKEN = 'sim-secret-token-4242'

async function startWithSimulator(options: ServiceOptions): Promise<PlexApp> {
  const sim = await startSimulator({
    port: 0,
    token: PLEX_TOKEN,
    seed: 1,
    items: 300,
    speed: 0,
    liveSessions: false,
    ...options.sim,
  })
  const plexEnv: Record<string, string> =
    options.configured === false
      ? { PLEX_TV_URL: sim.url }
      : { PLEX_SERVER_URL: sim.url, PLEX_SERVER_TOKEN: sim.token, PLEX_TV_URL: sim.url }
  let app: TestApp
  try {
    app = await startInProcess({ LOG_LEVEL: 'info', ...plexEnv, ...options.env }, options.runtime ?? {})
  } catch (error) {
    await sim.close()
    throw error
  }
  return {
    ...app,
    sim,
    fetch: (path, init) => fetch(app.url + path, init),
    counts: () => sim.control.requestCounts(),
    async close() {
      await app.close()
      await sim.close()
    },
  }
}

/** A Plex or API JSON object, asserted field by field (typing each would only repeat the assertions). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Raw = Record<string, any>

/** `path` of the simulator as JSON, without going through the service (expected values come from here). */
export async function simJson(sim: RunningSimulator, path: string): Promise<Raw> {
  const response = await fetch(sim.url + path, { headers: { 'X-Plex-Token': sim.token, Accept: 'application/json' } })
  return ((await response.json()) as { MediaContainer: Raw }).MediaContainer
}

/** Requests the simulator counted for endpoint patterns containing `fragment`. */
export function countOf(sim: RunningSimulator, fragment: string): number {
  let total = 0
  for (const [endpoint, n] of Object.entries(sim.control.requestCounts())) if (endpoint.includes(fragment)) total += n
  return total
}

/** Every text cell of every table of the database, for "no token stored anywhere" checks. */
export function everyStoredText(app: TestApp): string[] {
  const db = sqliteOf(app)
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>
  const texts: string[] = []
  for (const { name } of tables) {
    for (const row of db.prepare(`SELECT * FROM "${name}"`).all() as Array<Record<string, unknown>>) {
      for (const value of Object.values(row)) if (typeof value === 'string') texts.push(`${name}: ${value}`)
    }
  }
  return texts
}
