import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { scrubTokens } from '../../src/logger.js'
import { type TestApp, startService } from '../support/api-harness.js'

const CONFIGURED_TOKEN = 'configured-plex-token-123'

describe('logging never shows a token', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await startService({
      env: {
        PLEX_SERVER_URL: 'http://127.0.0.1:32400',
        PLEX_SERVER_TOKEN: CONFIGURED_TOKEN,
        LOG_LEVEL: 'debug',
      },
    })
  })
  afterAll(() => t.close())

  it('hides a token in a request URL and in request headers', async () => {
    await fetch(`${t.url}/api/services/?X-Plex-Token=query-token-456&x=1`, {
      headers: { 'X-Plex-Token': 'header-token-789' },
    })
    await fetch(`${t.url}/api/unknown?x-plex-token=query-token-456`)
    t.runtime.logger.info(
      { req: { headers: { 'x-plex-token': 'header-token-789', authorization: 'Basic YWRtaW46cHc=' } } },
      'headers',
    )
    const log = t.logLines.join('\n')
    expect(log).toContain('X-Plex-Token=***')
    expect(log).not.toContain('query-token-456')
    expect(log).not.toContain('header-token-789')
    expect(log).not.toContain('YWRtaW46cHc=')
  })

  it('hides token fields, tokens inside error messages, and the configured token anywhere', () => {
    const logger = t.runtime.logger
    logger.info({ token: 'field-token-1', plex: { token: 'nested-token-2' } }, 'fields')
    logger.error(
      { err: new Error('GET http://plex:32400/status/sessions?X-Plex-Token=err-token-3 failed') },
      'upstream failed',
    )
    logger.warn(`Plex at http://plex:32400 refused ${CONFIGURED_TOKEN}`)
    t.runtime.logSecrets.add('token-set-through-api-4')
    logger.info('now using token-set-through-api-4')
    const log = t.logLines.join('\n')
    for (const secret of [
      'field-token-1',
      'nested-token-2',
      'err-token-3',
      CONFIGURED_TOKEN,
      'token-set-through-api-4',
    ]) {
      expect(log, secret).not.toContain(secret)
    }
    expect(log).toContain('upstream failed')
  })

  it('scrubs tokens from URL query strings and serialized header objects', () => {
    expect(scrubTokens('http://p/a?X-Plex-Token=abc&b=1')).toBe('http://p/a?X-Plex-Token=***&b=1')
    expect(scrubTokens('{"X-Plex-Token":"abc\\"def","b":1}')).toBe('{"X-Plex-Token":"***","b":1}')
    expect(scrubTokens('no secrets here')).toBe('no secrets here')
  })
})
