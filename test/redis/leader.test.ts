import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { systemClock } from '../../src/cache/index.js'
import { createLeaderElection, type Leadership } from '../../src/cache/redis/index.js'
import { cleanUp, PrivateRedis, SHARED_REDIS_URL, uniquePrefix } from './helpers.js'
import { eventually, sleep } from '../support/eventually.js'

const LEASE_MS = 600

const clients: Redis[] = []
const elections: Leadership[] = []
const prefixes: string[] = []
const servers: PrivateRedis[] = []

afterEach(async () => {
  await Promise.all(elections.splice(0).map((election) => election.close()))
  for (const client of clients.splice(0)) client.disconnect()
  await Promise.all(prefixes.splice(0).map(cleanUp))
})
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()))
})

function client(url = SHARED_REDIS_URL): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    commandTimeout: 500,
    maxRetriesPerRequest: 1,
    retryStrategy: () => 50,
  })
  redis.on('error', () => {})
  clients.push(redis)
  return redis
}

function elect(key: string, redis: Redis, leadWithoutRedis?: boolean): Leadership & { changes: boolean[] } {
  const election = createLeaderElection({ redis, key, leaseMs: LEASE_MS, clock: systemClock, leadWithoutRedis })
  elections.push(election)
  const changes: boolean[] = []
  election.onChange((leading) => changes.push(leading))
  return Object.assign(election, { changes })
}

async function connected(redis: Redis): Promise<void> {
  await eventually('the connection is ready', () => redis.status === 'ready', 5_000)
}

function key(what: string): string {
  const p = uniquePrefix(what)
  prefixes.push(p)
  return `${p}leader:jobs`
}

describe('leader lease', () => {
  it('exactly one of several instances leads', async () => {
    const k = key('one')
    const redisClients = [client(), client(), client()]
    await Promise.all(redisClients.map(connected))
    const all = redisClients.map((redis) => elect(k, redis))
    await eventually('someone leads', () => all.some((e) => e.isLeader))
    await sleep(LEASE_MS)
    expect(all.filter((e) => e.isLeader)).toHaveLength(1)
  })

  it('decided settles after the first claim, when isLeader already says who leads', async () => {
    const k = key('decided')
    const [ra, rb] = [client(), client()]
    await Promise.all([connected(ra), connected(rb)])
    const a = elect(k, ra)
    expect(a.isLeader, 'nothing claimed yet').toBe(false)
    await a.decided
    expect(a.isLeader).toBe(true)
    const b = elect(k, rb)
    await b.decided
    expect({ a: a.isLeader, b: b.isLeader }).toEqual({ a: true, b: false })
  })

  it('a leader that closes hands over at the next step of another instance', async () => {
    const k = key('handover')
    const [ra, rb] = [client(), client()]
    await Promise.all([connected(ra), connected(rb)])
    const a = elect(k, ra)
    await eventually('a leads', () => a.isLeader)
    const b = elect(k, rb)
    await sleep(LEASE_MS / 2)
    expect(b.isLeader).toBe(false)

    await a.close()
    expect(a.changes).toEqual([true, false])
    const tookMs = await eventually('b leads', () => b.isLeader, 2 * LEASE_MS)
    expect(tookMs).toBeLessThan(LEASE_MS / 3 + 200)
  })

  it('a leader whose lease is no longer renewed is replaced within one lease', async () => {
    const k = key('dead')
    const [ra, rb] = [client(), client()]
    await Promise.all([connected(ra), connected(rb)])
    const a = elect(k, ra, false)
    await eventually('a leads', () => a.isLeader)
    const b = elect(k, rb)
    await sleep(LEASE_MS / 2)

    // The leader's host drops off the network: no renewals, no release.
    ra.disconnect()
    const tookMs = await eventually('b leads', () => b.isLeader, 3 * LEASE_MS)
    // Slack for two busy cores; the design bound is one lease.
    expect(tookMs).toBeLessThan(LEASE_MS + 250)
    await eventually('a steps down once its lease may have run out', () => !a.isLeader, 2 * LEASE_MS)
  })

  it('a cut-off instance leads anyway after a lease when leadWithoutRedis (the default), and yields when Redis is back', async () => {
    const server = await PrivateRedis.start()
    servers.push(server)
    const k = 'leader:jobs'
    const [ra, rb] = [client(server.url), client(server.url)]
    await Promise.all([connected(ra), connected(rb)])
    const a = elect(k, ra)
    await eventually('a leads', () => a.isLeader)
    const b = elect(k, rb)
    await sleep(LEASE_MS / 2)

    await server.kill()
    await eventually('b leads without Redis', () => b.isLeader, 3 * LEASE_MS)
    expect(a.isLeader, 'a, cut off too, keeps leading').toBe(true)

    await server.restart()
    await eventually('one leader again', () => a.isLeader !== b.isLeader, 5 * LEASE_MS)
  })
})
