// The request traces of the images bench: synthetic Zipf ones, and one derived from the pages the
// simulator's dashboards show. A trace is a list of keys with one size (bytes) per key.
import { startSimulator } from '../../sim/index.js'
import { mulberry32 } from '../../sim/random.js'

export interface Trace {
  readonly name: string
  readonly keys: readonly string[]
  readonly sizeOf: ReadonlyMap<string, number>
  /** Requests that belong to a library scan, when the trace has some. */
  readonly scan?: readonly boolean[]
}

/** A seeded PRNG (the simulator's mulberry32): the same trace on every run. */
export const random = mulberry32

/**
 * A poster's size: log-normal around 80 KB (sigma 0.6), clipped to 20-300 KB, which is how PMS's
 * JPEG posters and backgrounds spread (a thumbnail tens of KB, a 1000x1500 poster 150-300 KB).
 */
export function posterBytes(rand: () => number): number {
  const normal = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
  return Math.round(Math.min(300_000, Math.max(20_000, 80_000 * Math.exp(0.6 * normal))))
}

/** Zipf(s) over `items` keys; popularity ranks are shuffled so that a key's name says nothing of its rank. */
function zipfSampler(items: number, s: number, rand: () => number): () => number {
  const cdf = new Float64Array(items)
  let sum = 0
  for (let rank = 0; rank < items; rank++) cdf[rank] = sum += 1 / (rank + 1) ** s
  for (let rank = 0; rank < items; rank++) cdf[rank]! /= sum
  const keyOfRank = Array.from({ length: items }, (_, i) => i)
  for (let i = items - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[keyOfRank[i], keyOfRank[j]] = [keyOfRank[j]!, keyOfRank[i]!]
  }
  return () => {
    const u = rand()
    let lo = 0
    let hi = items - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (cdf[mid]! < u) lo = mid + 1
      else hi = mid
    }
    return keyOfRank[lo]!
  }
}

function librarySizes(items: number, rand: () => number): Map<string, number> {
  return new Map(Array.from({ length: items }, (_, i) => [`poster${i}`, posterBytes(rand)]))
}

export function zipfTrace(options: { items: number; requests: number; s: number; seed: number }): Trace {
  const rand = random(options.seed)
  const sizeOf = librarySizes(options.items, rand)
  const next = zipfSampler(options.items, options.s, rand)
  const keys = Array.from({ length: options.requests }, () => `poster${next()}`)
  return { name: `Zipf(${options.s}), ${options.items.toLocaleString('en')} posters`, keys, sizeOf }
}

/** The Zipf trace with a scan of the whole library (every poster once, in order) after every `every` requests. */
export function zipfWithScansTrace(options: {
  items: number
  requests: number
  s: number
  seed: number
  every: number
}): Trace {
  const rand = random(options.seed)
  const sizeOf = librarySizes(options.items, rand)
  const next = zipfSampler(options.items, options.s, rand)
  const keys: string[] = []
  const scan: boolean[] = []
  for (let i = 0; i < options.requests; i++) {
    keys.push(`poster${next()}`)
    scan.push(false)
    if ((i + 1) % options.every === 0) {
      for (let j = 0; j < options.items; j++) {
        keys.push(`poster${j}`)
        scan.push(true)
      }
    }
  }
  return {
    name: `Zipf(${options.s}) + a full scan every ${options.every.toLocaleString('en')} requests`,
    keys,
    sizeOf,
    scan,
  }
}

interface PlexContainer {
  MediaContainer: {
    Metadata?: Array<Record<string, unknown>>
    Account?: Array<{ id: number }>
    User?: Array<{ thumb?: string }>
  }
}

/**
 * The images a page draws per row: for each group of fields, the first one the row has (a show's
 * poster before the episode's own), plus the user's avatar where the row names a user.
 */
function imagesOf(
  rows: ReadonlyArray<Record<string, unknown>> | undefined,
  groups: ReadonlyArray<readonly string[]>,
): string[] {
  const found: string[] = []
  for (const row of rows ?? []) {
    for (const group of groups) {
      const field = group.find((name) => typeof row[name] === 'string')
      if (field !== undefined) found.push(row[field] as string)
    }
    const user = row.User as { thumb?: string } | undefined
    if (typeof user?.thumb === 'string') found.push(user.thumb)
  }
  return found
}

/**
 * The image paths the dashboards of `users` browsers reference, derived from the simulator's PMS
 * answers (the same ones the service maps into its pages; the service itself is not in the loop):
 * each visit draws the playing sessions (user avatar, poster, background), the 50 recently added
 * posters, and one page of 50 rows of the visitor's own watch history (page 0 half the time,
 * page 1 a quarter, ...). Visits are interleaved across users, `visits` per user.
 */
export async function dashboardTrace(options: {
  users: number
  visits: number
  items: number
  historyRows: number
  seed: number
}): Promise<Trace> {
  const sim = await startSimulator({
    port: 0,
    seed: options.seed,
    items: options.items,
    historyRows: options.historyRows,
    speed: 0,
    liveSessions: true,
  })
  const get = async (path: string): Promise<PlexContainer['MediaContainer']> => {
    const response = await fetch(sim.url + path, { headers: { 'X-Plex-Token': sim.token, Accept: 'application/json' } })
    return ((await response.json()) as PlexContainer).MediaContainer
  }
  try {
    const accounts = ((await get('/accounts')).Account ?? []).map((a) => a.id).filter((id) => id > 1)
    const sessions = imagesOf((await get('/status/sessions')).Metadata, [
      ['grandparentThumb', 'parentThumb', 'thumb'],
      ['grandparentArt', 'art'],
    ])
    const recent = imagesOf(
      (await get('/library/recentlyAdded?X-Plex-Container-Start=0&X-Plex-Container-Size=50')).Metadata,
      [['thumb']],
    )
    const pages = new Map<string, string[]>()
    const historyPage = async (account: number, page: number): Promise<string[]> => {
      const key = `${account}:${page}`
      let images = pages.get(key)
      if (images === undefined) {
        const rows = (
          await get(
            `/status/sessions/history/all?sort=viewedAt:desc&accountID=${account}&X-Plex-Container-Start=${page * 50}&X-Plex-Container-Size=50`,
          )
        ).Metadata
        images = imagesOf(rows, [['grandparentThumb', 'parentThumb', 'thumb']])
        pages.set(key, images)
      }
      return images
    }
    const rand = random(options.seed)
    const keys: string[] = []
    for (let visit = 0; visit < options.visits; visit++) {
      for (let user = 0; user < options.users; user++) {
        let page = 0
        while (rand() < 0.5 && page < 20) page++
        keys.push(...sessions, ...recent, ...(await historyPage(accounts[user % accounts.length]!, page)))
      }
    }
    const sizes = random(options.seed ^ 0x5eed)
    const sizeOf = new Map<string, number>()
    for (const key of keys) if (!sizeOf.has(key)) sizeOf.set(key, posterBytes(sizes))
    return {
      name: `dashboards of ${options.users} users (simulator: ${options.items.toLocaleString('en')} items, ${accounts.length} accounts)`,
      keys,
      sizeOf,
    }
  } finally {
    await sim.close()
  }
}
