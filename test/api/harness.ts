// Shared set-up for the API tests: the real app on port 0 over an in-memory SQLite, and small
// real HTTP servers to stand in for monitored services.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { loadConfig } from '../../src/config.js'
import { buildApp } from '../../src/http/app.js'
import { createLogger, LogSecrets } from '../../src/logger.js'
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime.js'

export interface TestApp {
  readonly url: string
  readonly app: FastifyInstance
  readonly runtime: Runtime
  /** Every log line written so far (JSON), for tests about what gets logged. */
  readonly logLines: string[]
  close(): Promise<void>
}

/** Builds and starts the app; `beforeListen` may add routes (e.g. to test route options). */
export async function startTestApp(
  env: Record<string, string | undefined> = {},
  options: RuntimeOptions & { beforeListen?: (app: FastifyInstance) => void } = {},
): Promise<TestApp> {
  const config = loadConfig({ DATABASE_PATH: ':memory:', LOG_LEVEL: 'debug', MONITOR_TIMEOUT: '5', ...env })
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
  const app = buildApp(runtime)
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
export async function startTarget(handle: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>): Promise<Target> {
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

export const answering = (status: number) => startTarget((_req, res) => void res.writeHead(status, { 'content-type': 'text/plain' }).end('ok'))

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

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

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

export const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` })
