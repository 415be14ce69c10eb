import { existsSync } from 'node:fs'
import { ConfigError, loadConfig, type Config } from './config.js'
import { CACHES } from './features/caches/index.js'
import { buildApp } from './http/app.js'
import { appDeps } from './http/routes/index.js'
import { SHUTDOWN_DEADLINE_MS } from './http/drain.js'
import { createRuntime, type Runtime } from './runtime.js'

function fail(message: string): never {
  console.error(`komandorr-cache: ${message}`)
  process.exit(1)
}

function readConfig(): Config {
  // Real environment variables win over the file (loadEnvFile never overrides them).
  if (existsSync('.env')) process.loadEnvFile('.env')
  try {
    return loadConfig(process.env, CACHES)
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message)
    throw error
  }
}

async function openRuntime(config: Config): Promise<Runtime> {
  try {
    return await createRuntime(config)
  } catch (error) {
    fail((error as Error).message)
  }
}

async function main(): Promise<void> {
  const config = readConfig()
  const runtime = await openRuntime(config)
  const { logger } = runtime
  const app = buildApp(appDeps(runtime))

  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception: exiting')
    runtime.database.closeNow()
    process.exit(1)
  })
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'))

  try {
    await app.listen({ host: config.host, port: config.port })
  } catch (error) {
    await runtime.close()
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE')
      fail(`PORT ${config.port} is already in use on HOST ${config.host}: stop the other process or set another PORT`)
    if (code === 'EADDRNOTAVAIL')
      fail(`HOST "${config.host}" is not an address of this machine: set HOST to one (0.0.0.0 for all)`)
    fail(`cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`)
  }
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : config.port
  logger.info({ host: config.host, port, database: runtime.database.location }, 'komandorr-cache is listening')
  if (config.plex.serverUrl === null) {
    logger.warn(
      'Plex is not configured: set PLEX_SERVER_URL and PLEX_SERVER_TOKEN (in the environment or .env), or run `npm run demo` to try the service against a simulated Plex. Services, traffic and health work meanwhile.',
    )
  }
  runtime.startJobs()

  let shuttingDown = false
  const shutdown = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      logger.warn({ signal }, 'second signal: exiting without waiting')
      runtime.database.closeNow()
      process.exit(1)
    }
    shuttingDown = true
    logger.info({ signal }, `shutting down: finishing in-flight requests (at most ${SHUTDOWN_DEADLINE_MS / 1000} s)`)
    const deadline = setTimeout(() => {
      logger.error(`shutdown took longer than ${SHUTDOWN_DEADLINE_MS / 1000} s: exiting anyway`)
      runtime.database.closeNow()
      process.exit(1)
    }, SHUTDOWN_DEADLINE_MS)
    deadline.unref()
    // Stop taking requests and stop the jobs together; the database closes only after both.
    // app.close() drains (http/drain.ts) within a budget that leaves the rest a second.
    Promise.all([app.close(), runtime.stopJobs()])
      .then(() => runtime.close())
      .then(() => {
        logger.info('stopped')
        process.exit(0)
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed')
        runtime.database.closeNow()
        process.exit(1)
      })
  }
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)
}

await main()
