// The compose files, checked without a container engine: valid against the Compose
// Specification's JSON schema (vendored in compose-spec/, see its README) after interpolation as
// Compose does it, and coherent (dependencies, healthchecks, volumes, profiles, variable names).
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../../bench/support/child-process.js'
import { loadConfig } from '../../src/config.js'
import { CACHES } from '../../src/features/caches/index.js'

// A parsed YAML document, walked freely by the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>

const schema = JSON.parse(readFileSync(join(ROOT, 'test/deploy/compose-spec/compose-spec.json'), 'utf8')) as Doc
// The schema uses draft 2019's `deprecated` among draft-07 keywords, as Compose's own validator allows.
const validate = new Ajv({ strict: false, validateSchema: false, allErrors: true }).compile(schema)

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8')

/** Compose's interpolation of `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`. */
function interpolate(value: unknown, env: Record<string, string>): unknown {
  if (typeof value === 'string') {
    return value.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (whole, name, colon, op, arg, bare) => {
        if (whole === '$$') return '$'
        if (bare !== undefined) return env[bare] ?? ''
        const set = env[name] !== undefined && (colon !== ':' || env[name] !== '')
        if (set) return env[name]!
        if (op === '-') return arg
        if (op === '?') throw new Error(`${name}: ${arg}`)
        return ''
      },
    )
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env))
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]))
  return value
}

function schemaErrors(doc: unknown): string[] {
  return validate(doc)
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`)
}

/** Every variable name the sources read as a string literal, for comparing with what compose sets. */
function quotedNamesInSources(dir: string): Set<string> {
  const names = new Set<string>()
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue
    for (const m of readFileSync(join(entry.parentPath, entry.name), 'utf8').matchAll(/'([A-Z][A-Z0-9_]+)'/g))
      names.add(m[1]!)
  }
  return names
}

describe('docker-compose.yml', () => {
  const raw = parse(read('docker-compose.yml')) as Doc
  const compose = interpolate(raw, {}) as Doc
  const services = compose.services as Doc

  it('is valid against the Compose Specification schema, with defaults and with every variable set', () => {
    expect(schemaErrors(compose)).toEqual([])
    expect(
      schemaErrors(
        interpolate(raw, {
          KOMANDORR_CACHE_PORT: '9000',
          DATABASE_URL: 'postgres://k:p@postgres:5432/k',
          REDIS_MAXMEMORY: '1gb',
        }),
      ),
    ).toEqual([])
    // A broken file fails the same check, so a pass means something.
    expect(
      schemaErrors({
        ...compose,
        services: { ...services, redis: { ...services.redis, healthchek: services.redis.healthcheck } },
      }),
    ).not.toEqual([])
    expect(
      schemaErrors({
        ...compose,
        services: { ...services, redis: { ...services.redis, depends_on: { x: { condition: 'service_ready' } } } },
      }),
    ).not.toEqual([])
  })

  it('runs with no .env: every variable has a default', () => {
    const withoutDefault = [...read('docker-compose.yml').matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map(
      (m) => m[1],
    )
    expect(withoutDefault).toEqual([])
  })

  it('waits for healthy dependencies; PostgreSQL only in the postgres profile, and optional', () => {
    const app = services['komandorr-cache']
    for (const [name, dependency] of Object.entries(app.depends_on as Doc)) {
      expect(services[name], name).toBeDefined()
      expect(dependency.condition, name).toBe('service_healthy')
      expect(services[name].healthcheck?.test, name).toBeDefined()
    }
    expect(services.postgres.profiles).toEqual(['postgres'])
    expect(app.depends_on.postgres.required).toBe(false)
    expect(services.redis.profiles).toBeUndefined()
    expect(app.profiles).toBeUndefined()
  })

  it('keeps the data in named volumes, the SQLite file in the image data folder', () => {
    const declared = Object.keys(compose.volumes as Doc)
    for (const [name, service] of Object.entries(services)) {
      for (const volume of (service as Doc).volumes ?? []) {
        const source = typeof volume === 'string' ? volume.split(':')[0] : volume.source
        expect(declared, `${name}: ${source}`).toContain(source)
      }
    }
    expect(services['komandorr-cache'].volumes).toContain('komandorr-data:/app/data')
    expect(services['komandorr-cache'].environment.DATABASE_PATH).toMatch(/^\/app\/data\//)
    expect(read('Dockerfile')).toMatch(/^VOLUME \["\/app\/data"\]$/m)
  })

  it('sets only variables the service reads or the README documents', () => {
    const known = quotedNamesInSources(join(ROOT, 'src'))
    const readme = read('README.md')
    const unknown = Object.keys(services['komandorr-cache'].environment as Doc).filter(
      (name) => !known.has(name) && !readme.includes(`\`${name}\``),
    )
    expect(unknown).toEqual([])
  })

  it('has the healthcheck of the Dockerfile', () => {
    const dockerfileCheck = /^HEALTHCHECK .*\\\n\s+CMD (\[.*\])$/m.exec(read('Dockerfile'))![1]!
    expect(services['komandorr-cache'].healthcheck.test).toEqual(['CMD', ...(JSON.parse(dockerfileCheck) as string[])])
  })
})

describe('docker-compose.postgres.yml', () => {
  const raw = parse(read('docker-compose.postgres.yml')) as Doc
  const base = interpolate(parse(read('docker-compose.yml')), {}) as Doc

  it("is valid against the schema and points the service at the postgres profile's database, required", () => {
    const compose = interpolate(raw, {}) as Doc
    expect(schemaErrors(compose)).toEqual([])
    const service = compose.services['komandorr-cache']
    const database = base.services.postgres
    expect(database.profiles).toEqual(['postgres'])
    const url = new URL(service.environment.DATABASE_URL)
    expect(url.hostname).toBe('postgres')
    expect([url.username, url.password, url.pathname]).toEqual([
      database.environment.POSTGRES_USER,
      database.environment.POSTGRES_PASSWORD,
      `/${database.environment.POSTGRES_DB}`,
    ])
    expect(service.depends_on.postgres).toEqual({ condition: 'service_healthy', required: true })
    // The service takes the URL as it is made here.
    expect(loadConfig({ DATABASE_URL: service.environment.DATABASE_URL }, CACHES).database.url).toBe(
      service.environment.DATABASE_URL,
    )
  })

  it('follows POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB as the database service does', () => {
    const env = { POSTGRES_USER: 'u', POSTGRES_PASSWORD: 'p', POSTGRES_DB: 'd' }
    const overlay = interpolate(raw, env) as Doc
    const database = (interpolate(parse(read('docker-compose.yml')), env) as Doc).services.postgres.environment
    expect(overlay.services['komandorr-cache'].environment.DATABASE_URL).toBe(
      `postgres://${database.POSTGRES_USER}:${database.POSTGRES_PASSWORD}@postgres:5432/${database.POSTGRES_DB}`,
    )
  })
})

describe('docker-compose.frontend.yml', () => {
  const raw = parse(read('docker-compose.frontend.yml')) as Doc

  it('is valid against the schema and mounts FRONTEND_DIST read-only where FRONTEND_DIR points', () => {
    const compose = interpolate(raw, { FRONTEND_DIST: '/opt/komandorr/frontend/dist' }) as Doc
    expect(schemaErrors(compose)).toEqual([])
    const service = compose.services['komandorr-cache']
    expect(service.volumes).toEqual([
      {
        type: 'bind',
        source: '/opt/komandorr/frontend/dist',
        target: service.environment.FRONTEND_DIR,
        read_only: true,
        bind: { create_host_path: false },
      },
    ])
    expect(parse(read('docker-compose.yml')).services['komandorr-cache']).toBeDefined()
  })

  it('refuses to start without FRONTEND_DIST, saying what to set', () => {
    expect(() => interpolate(raw, {})).toThrow(
      /^FRONTEND_DIST: set FRONTEND_DIST to the folder of a built Komandorr frontend/,
    )
  })
})
