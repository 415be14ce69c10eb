import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const ROOT = new URL('../../', import.meta.url)
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

/**
 * Starts the service in a fresh process with `env`, serves one request, and lists the packages
 * among `watched` that the process loaded (pg and ioredis are CommonJS: require's cache shows them).
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
  it('holds neither the PostgreSQL driver on SQLite nor ioredis without Redis', async () => {
    expect(await packagesLoaded({}, ['pg', 'ioredis', 'fastify'])).toEqual(['fastify'])
  }, 60_000)

  it('loads ioredis once Redis is configured', async () => {
    const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
    expect(
      await packagesLoaded({ REDIS_URL: redisUrl, REDIS_KEY_PREFIX: `lazy-${process.pid}:` }, ['ioredis']),
    ).toEqual(['ioredis'])
  }, 60_000)
})
