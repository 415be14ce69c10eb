import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanUp, SHARED_REDIS_URL, uniquePrefix } from '../redis/helpers.js'
import { startService, type TestApp } from '../support/api-harness.js'
import { eventually } from '../support/eventually.js'
import { KomandorrStandIn } from './stand-in.js'

interface Answer {
  readonly generation: number
}

describe('three instances on one Redis in front of one Komandorr', () => {
  let komandorr: KomandorrStandIn
  let instances: TestApp[] = []
  const prefix = uniquePrefix('komandorr-instances')

  beforeAll(async () => {
    komandorr = await KomandorrStandIn.start()
    const env = {
      KOMANDORR_URL: komandorr.url,
      LOG_LEVEL: 'info',
      REDIS_URL: SHARED_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      REDIS_TIMEOUT_MS: '1000',
    }
    instances = await Promise.all([startService({ env }), startService({ env }), startService({ env })])
  })
  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.close()))
    await komandorr?.close()
    await cleanUp(prefix)
  })

  const get = async (instance: TestApp, path: string) => {
    const response = await fetch(instance.url + path)
    return { cache: response.headers.get('x-cache'), body: (await response.json()) as Answer }
  }

  it('shares one Komandorr call between the instances', async () => {
    komandorr.reset()
    await get(instances[0]!, '/api/invites/')
    await Promise.all(instances.map((instance) => get(instance, '/api/invites/')))
    expect(komandorr.count('GET', '/api/invites/')).toBe(1)
  })

  it('a write through one instance drops the cached GETs on every instance', async () => {
    const before = await Promise.all(instances.map((instance) => get(instance, '/api/storage/summary')))
    for (const instance of instances) expect((await get(instance, '/api/storage/summary')).cache).toBe('HIT')
    const generation = before[0]!.body.generation

    const write = await fetch(`${instances[1]!.url}/api/storage/refresh`, { method: 'POST' })
    expect(write.status).toBe(200)
    expect(komandorr.generation).toBe(generation + 1)

    // The bus is asynchronous: the others drop their memory copy when its message arrives.
    for (const instance of instances) {
      await eventually(
        'the instance answers the new generation',
        async () => (await get(instance, '/api/storage/summary')).body.generation === generation + 1,
        5_000,
      )
    }
  })
})
