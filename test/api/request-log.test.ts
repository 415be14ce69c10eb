import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger, LazyChildLogger } from '../../src/logger.js'
import { type TestApp, startService } from '../support/api-harness.js'

function capturedLogger(level: 'info' | 'debug') {
  const lines: Record<string, unknown>[] = []
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>)
      done()
    },
  })
  return { logger: createLogger({ level, destination }), lines }
}

describe('a request logger made on its first line', () => {
  it('writes with its bindings, and nothing for a level that is off', async () => {
    const { logger, lines } = capturedLogger('info')
    const log = new LazyChildLogger(logger, { reqId: 'req-7' })
    log.debug('not written')
    log.info({ path: '/x' }, 'written')
    log.level = 'debug'
    log.debug('now written')
    await new Promise((resolve) => setImmediate(resolve))
    expect(lines.map((l) => [l.msg, l.reqId])).toEqual([
      ['written', 'req-7'],
      ['now written', 'req-7'],
    ])
    expect(lines[0]!.path).toBe('/x')
  })

  it('redacts fields and scrubs tokens like the parent', async () => {
    const { logger, lines } = capturedLogger('info')
    new LazyChildLogger(logger, { reqId: 'req-8' }).warn(
      { token: 'secret-field', url: '/a?X-Plex-Token=secret-query' },
      'w',
    )
    await new Promise((resolve) => setImmediate(resolve))
    expect(JSON.stringify(lines)).not.toMatch(/secret-field|secret-query/)
  })
})

describe('per-request log lines', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await startService({ env: { LOG_LEVEL: 'debug' } })
  })
  afterAll(() => t.close())

  it('carry a request id of their own', async () => {
    await fetch(`${t.url}/api/no-such-route-a`)
    await fetch(`${t.url}/api/no-such-route-b`)
    const ids = t.logLines
      .map((line) => JSON.parse(line) as { msg?: string; reqId?: string; url?: string })
      .filter((line) => line.msg === 'request' && line.url?.startsWith('/api/no-such-route-'))
      .map((line) => line.reqId)
    expect(ids).toHaveLength(2)
    expect(ids[0]).toEqual(expect.any(String))
    expect(ids[0]).not.toBe(ids[1])
  })
})
