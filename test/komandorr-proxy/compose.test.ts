import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../../bench/support/child-process.js'
import { loadConfig } from '../../src/config.js'
import { CACHES } from '../../src/features/caches/index.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>

const read = (file: string) => parse(readFileSync(join(ROOT, file), 'utf8')) as Doc
const schema = JSON.parse(readFileSync(join(ROOT, 'test/deploy/compose-spec/compose-spec.json'), 'utf8')) as Doc
const validate = new Ajv({ strict: false, validateSchema: false, allErrors: true }).compile(schema)

describe('docker-compose.komandorr.yml', () => {
  const override = read('docker-compose.komandorr.yml')
  const base = read('docker-compose.yml')

  it('is valid against the Compose Specification schema', () => {
    expect(validate(override), JSON.stringify(validate.errors)).toBe(true)
  })

  it('puts Komandorr behind the service: one port published, the service pointed at Komandorr once it is healthy', () => {
    // Compose merges an override service by service, key by key.
    const names = new Set([...Object.keys(base.services), ...Object.keys(override.services)])
    const services = Object.fromEntries(
      [...names].map((name) => [name, { ...base.services[name], ...override.services[name] } as Doc]),
    )
    const published = Object.entries(services).filter(([, service]) => service.ports !== undefined)
    expect(published.map(([name]) => name)).toEqual(['komandorr-cache'])
    const cache = override.services['komandorr-cache']
    expect(cache.depends_on.komandorr.condition).toBe('service_healthy')
    expect(override.services.komandorr.healthcheck).toBeDefined()
    const url = cache.environment.KOMANDORR_URL as string
    expect(loadConfig({ KOMANDORR_URL: url }, CACHES).komandorrUrl).toBe('http://komandorr:8000')
    expect(url).toContain(`:${override.services.komandorr.environment.PORT}`)
  })
})
