import type { Redis } from 'ioredis'
import { isCluster, mastersOf, type RedisClient } from './connection.js'

/** Keys per SCAN step and per UNLINK batch: small enough that no call holds Redis for long. */
const BATCH = 500

/** `text` as a literal in a SCAN MATCH pattern. */
export function globLiteral(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}

/** Every key starting with `prefix`, on every master (SCAN, never KEYS). */
export async function keysWithPrefix(client: RedisClient, prefix: string): Promise<string[]> {
  const found: string[] = []
  await forEachBatch(client, prefix, async (_master, keys) => {
    found.push(...keys)
  })
  return found
}

/** Deletes every key starting with `prefix` on every master, in batches; resolves the count. */
export async function unlinkWithPrefix(client: RedisClient, prefix: string): Promise<number> {
  let deleted = 0
  const cluster = isCluster(client)
  await forEachBatch(client, prefix, async (master, keys) => {
    deleted += cluster ? await unlinkEach(master, keys) : await master.unlink(...keys)
  })
  return deleted
}

/** Deletes `keys`, which may live in different cluster slots. */
export async function unlinkKeys(client: RedisClient, keys: readonly string[]): Promise<number> {
  if (keys.length === 0) return 0
  if (!isCluster(client)) return client.unlink(...keys)
  const counts = await Promise.all(keys.map((key) => client.unlink(key)))
  return counts.reduce((sum, n) => sum + n, 0)
}

// One multi-key UNLINK fails across slots (CROSSSLOT) even on one node: one UNLINK per key,
// pipelined to the node that SCAN found them on.
async function unlinkEach(master: Redis, keys: readonly string[]): Promise<number> {
  const pipeline = master.pipeline()
  for (const key of keys) pipeline.unlink(key)
  const results = (await pipeline.exec()) ?? []
  let deleted = 0
  for (const [error, count] of results) {
    if (error) throw error
    deleted += count as number
  }
  return deleted
}

async function forEachBatch(
  client: RedisClient,
  prefix: string,
  visit: (master: Redis, keys: string[]) => Promise<void>,
): Promise<void> {
  const pattern = `${globLiteral(prefix)}*`
  await Promise.all(
    mastersOf(client).map(async (master) => {
      let cursor = '0'
      do {
        const [next, keys] = await master.scan(cursor, 'MATCH', pattern, 'COUNT', BATCH)
        cursor = next
        if (keys.length > 0) await visit(master, keys)
      } while (cursor !== '0')
    }),
  )
}
