// `npm run demo`: the simulated Plex server (port 32400, sessions starting and stopping by
// themselves) and the service (port 8000) wired together in one process, over a throwaway
// database. Ctrl-C stops both. PORT, HOST, SIM_PORT and LOG_LEVEL may be set to taste.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../src/config.js'
import { CACHES } from '../src/features/caches/index.js'
import { buildApp } from '../src/http/app.js'
import { appDeps } from '../src/http/routes/index.js'
import { createRuntime } from '../src/runtime.js'
import { startSimulator, type RunningSimulator } from '../sim/index.js'

function fail(message: string): never {
  console.error(`demo: ${message}`)
  process.exit(1)
}

const simPort = Number(process.env.SIM_PORT ?? 32400)
let sim: RunningSimulator
try {
  sim = await startSimulator({ port: simPort, liveSessions: true, speed: 1, startTime: Math.floor(Date.now() / 1000) })
} catch (error) {
  fail(
    `the Plex simulator cannot listen on port ${simPort} (${(error as Error).message}): stop what uses it or set SIM_PORT`,
  )
}

const dataDir = mkdtempSync(join(tmpdir(), 'komandorr-demo-'))
let config
try {
  config = loadConfig(
    {
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...process.env,
      PORT: process.env.PORT ?? '8000',
      PLEX_SERVER_URL: sim.url,
      PLEX_SERVER_TOKEN: sim.token,
      PLEX_TV_URL: sim.url,
      DATABASE_PATH: join(dataDir, 'komandorr.db'),
    },
    CACHES,
  )
} catch (error) {
  await sim.close()
  fail(error instanceof ConfigError ? error.message : String(error))
}

const runtime = await createRuntime(config)
const app = buildApp(appDeps(runtime))
try {
  await app.listen({ host: config.host, port: config.port })
} catch (error) {
  await runtime.close()
  await sim.close()
  rmSync(dataDir, { recursive: true, force: true })
  fail(
    `the service cannot listen on ${config.host}:${config.port} (${(error as Error).message}): stop what uses it or set PORT`,
  )
}
runtime.startJobs()

const host = config.host === '0.0.0.0' || config.host === '127.0.0.1' ? 'localhost' : config.host
console.log(
  `komandorr-cache demo: open http://${host}:${config.port}/api/plex/sessions (Plex simulator at ${sim.url}; Ctrl-C stops both)`,
)

let stopping = false
async function stop(): Promise<void> {
  if (stopping) process.exit(1)
  stopping = true
  await Promise.allSettled([app.close(), runtime.stopJobs()])
  await runtime.close()
  await sim.close()
  rmSync(dataDir, { recursive: true, force: true })
  process.exit(0)
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
