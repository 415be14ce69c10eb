import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const ROOT = new URL('../../', import.meta.url)
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

/**
 * Starts the service in a fresh process with `env`, serves one request, and lists the packages
 * among `watched` that the process loaded (pg is CommonJS: require's cache shows it).
 */
async function packagesLoaded(env: Record<string, string>, watched: string[]): Promise<string[]> {
  const script = `
    import { createRequire } from 'node:module'
    const { loadConfig } = await import('./src/config.ts')
    const { createRuntime } = await import('./src/runtime.ts')
    const { buildApp } = await import('./src/http/app.ts')
    const { appDeps } = await import('./src/http/routes/index.ts')
    const { CACHES } = await import('./src/features/caches/index.ts')
    const runtime = await createRuntime(loadConfig(process.env, CACHES))
    const app = buildApp(appDeps(runtime))
    await app.listen({ host: '127.0.0.1', port: 0 })
    const res = await fetch('http://127.0.0.1:' + app.server.address().port + '/api/health')
    if (res.status !== 200) throw new Error('health answered ' + res.status)
    const loaded = Object.keys(createRequire(import.meta.url).cache)
    console.log(JSON.stringify(${JSON.stringify(watched)}.filter((name) => loaded.some((file) => file.includes('/node_modules/' + name + '/')))))
    await app.close()
    await runtime.close()
  `
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', TSX, '--input-type=module', '-e', script],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', DATABASE_PATH: ':memory:', ...env },
    },
  )
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as string[]
}

describe('what an idle instance loads', () => {
  it('holds no PostgreSQL driver on SQLite', async () => {
    expect(await packagesLoaded({}, ['pg', 'fastify'])).toEqual(['fastify'])
  }, 60_000)

  it('loads the PostgreSQL driver when DATABASE_URL is set', async () => {
    // The connection is made on first use: the driver is loaded, whether or not a database answers.
    const url = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
    expect(await packagesLoaded({ DATABASE_URL: url }, ['pg'])).toEqual(['pg'])
  }, 60_000)
})
