import { sql } from 'kysely'
import { beforeEach, describe, expect, it } from 'vitest'
import { createRepos, migrate, type Database, type Repos, type WatchHistoryEntry } from '../../src/db/index.js'
import { ENGINES, freshDatabases } from '../support/databases.js'

const entry = (overrides: Partial<WatchHistoryEntry> = {}): WatchHistoryEntry => ({
  userId: 1,
  userName: 'alice',
  type: 'episode',
  title: 'Pilot',
  grandparentTitle: 'The Show',
  parentIndex: 1,
  index: 1,
  viewedAt: 1_700_000_000,
  duration: 2_700,
  viewOffset: 2_700,
  progress: 100,
  viewCount: 1,
  rating: 8.1,
  year: 2020,
  thumb: '/library/metadata/10/thumb/1',
  contentRating: 'TV-14',
  studio: 'HBO',
  summary: 'It begins.',
  genres: ['Drama', 'Sci-Fi'],
  ratingKey: '10',
  historyKey: '/status/sessions/history/1',
  librarySectionId: '2',
  ...overrides,
})

const sample = (serviceId: string, at: number, totalUp: number, totalDown: number) => ({
  serviceId,
  at,
  bandwidthUp: 1.5,
  bandwidthDown: 2.5,
  totalUp,
  totalDown,
  maxBandwidth: null,
  cpuPercent: 12.5,
  memoryPercent: null,
})

describe.each(ENGINES)('repositories on %s', (engine) => {
  const { fresh } = freshDatabases(engine)
  let db: Database
  let repos: Repos
  const countOf = async (table: string) =>
    Number((await sql<{ n: number }>`SELECT COUNT(*) AS n FROM ${sql.table(table)}`.execute(db.kysely)).rows[0]!.n)

  beforeEach(async () => {
    db = await fresh()
    await migrate(db.kysely, engine)
    repos = createRepos({ db: db.kysely, engine })
  })

  describe('watch history', () => {
    it('stores a play once, however often it is synced, even when its user is unknown (NULL)', async () => {
      const anonymous = entry({ userId: null, userName: null })
      expect(await repos.watchHistory.insertBatch([anonymous, anonymous])).toEqual({
        added: 1,
        newestViewedAt: anonymous.viewedAt,
      })
      expect(await repos.watchHistory.insertBatch([anonymous])).toEqual({ added: 0, newestViewedAt: null })
      expect(await repos.watchHistory.count()).toBe(1)
    })

    it('keeps two plays of the same item by the same user in the same second (two history keys)', async () => {
      const first = entry({ historyKey: '/status/sessions/history/34247' })
      const second = entry({ historyKey: '/status/sessions/history/34248' })
      expect((await repos.watchHistory.insertBatch([first, second])).added).toBe(2)
      expect((await repos.watchHistory.insertBatch([first, second])).added).toBe(0)
      expect(await repos.watchHistory.count()).toBe(2)
    })

    it('identifies a row without a history key by user, item and second', async () => {
      const keyless = entry({ historyKey: null })
      expect(
        (
          await repos.watchHistory.insertBatch([
            keyless,
            keyless,
            { ...keyless, userId: null },
            { ...keyless, userId: null },
          ])
        ).added,
      ).toBe(2)
      expect((await repos.watchHistory.insertBatch([{ ...keyless, viewedAt: keyless.viewedAt + 1 }])).added).toBe(1)
      expect(
        (
          await repos.watchHistory.insertBatch([
            { ...keyless, ratingKey: null },
            { ...keyless, ratingKey: null },
          ])
        ).added,
      ).toBe(1)
    })

    it('lists newest first, with limit, offset and a user filter, and round-trips every field', async () => {
      const rows = [1, 2, 3, 4, 5].map((i) =>
        entry({ viewedAt: 1_700_000_000 + i, ratingKey: String(i), historyKey: `/h/${i}`, userId: i % 2 }),
      )
      const { added, newestViewedAt } = await repos.watchHistory.insertBatch(rows)
      expect({ added, newestViewedAt }).toEqual({ added: 5, newestViewedAt: 1_700_000_005 })
      expect(await repos.watchHistory.newestViewedAt()).toBe(1_700_000_005)

      expect((await repos.watchHistory.list({ limit: 2 })).map((r) => r.ratingKey)).toEqual(['5', '4'])
      expect((await repos.watchHistory.list({ limit: 2, offset: 2 })).map((r) => r.ratingKey)).toEqual(['3', '2'])
      expect((await repos.watchHistory.list({ limit: 10, userId: 1 })).map((r) => r.ratingKey)).toEqual(['5', '3', '1'])
      expect((await repos.watchHistory.list({ limit: 1 }))[0]).toEqual(rows[4])
    })

    it('breaks ties of the same second by insertion order, newest first', async () => {
      await repos.watchHistory.insertBatch([
        entry({ historyKey: '/h/a', title: 'A' }),
        entry({ historyKey: '/h/b', title: 'B' }),
      ])
      expect((await repos.watchHistory.list({ limit: 2 })).map((r) => r.title)).toEqual(['B', 'A'])
    })

    it('stores a batch larger than one statement in one go', async () => {
      const rows = Array.from({ length: 1_234 }, (_, i) =>
        entry({ viewedAt: 1_700_000_000 + i, historyKey: `/h/${i}` }),
      )
      expect(await repos.watchHistory.insertBatch(rows)).toEqual({ added: 1_234, newestViewedAt: 1_700_001_233 })
    })

    it('removes a Plex token from a thumb path before storing it', async () => {
      await repos.watchHistory.insertBatch([entry({ thumb: '/library/metadata/10/thumb/1?X-Plex-Token=secret123' })])
      expect((await repos.watchHistory.list({ limit: 1 }))[0]!.thumb).toBe('/library/metadata/10/thumb/1')
      expect(JSON.stringify(await db.kysely.selectFrom('watch_history').selectAll().execute())).not.toContain(
        'secret123',
      )
    })

    it('has no newest view while empty', async () => {
      expect(await repos.watchHistory.newestViewedAt()).toBeNull()
    })
  })

  describe('plex stats', () => {
    it('raises the peak only when higher and resets it to zero, keeping unix ms past 2^31', async () => {
      const t = 1_764_000_000_000
      expect(await repos.plexStats.get()).toEqual({ peakConcurrent: 0, lastUpdated: null })
      expect(await repos.plexStats.raisePeak(4, t)).toEqual({ peakConcurrent: 4, lastUpdated: t })
      expect(await repos.plexStats.raisePeak(3, t + 1)).toEqual({ peakConcurrent: 4, lastUpdated: t })
      expect(await repos.plexStats.raisePeak(7, t + 2)).toEqual({ peakConcurrent: 7, lastUpdated: t + 2 })
      expect(await repos.plexStats.resetPeak(t + 3)).toEqual({ peakConcurrent: 0, lastUpdated: t + 3 })
    })
  })

  describe('settings', () => {
    it('stores JSON values by key, replacing and deleting them', async () => {
      expect(await repos.settings.get('plex')).toBeUndefined()
      await repos.settings.set('plex', { url: 'http://plex:32400', token: 't' }, 1)
      await repos.settings.set('plex', { url: 'http://other:32400', token: 'u' }, 2)
      expect(await repos.settings.get('plex')).toEqual({ url: 'http://other:32400', token: 'u' })
      expect(await repos.settings.delete('plex')).toBe(true)
      expect(await repos.settings.delete('plex')).toBe(false)
      expect(await repos.settings.get('plex')).toBeUndefined()
    })
  })

  describe('viewers', () => {
    const viewer = (username: string, plexAccountId = 7) => ({
      username,
      passwordHash: `scrypt$16384$8$1$c2FsdA$${username}`,
      plexAccountId,
      createdAt: 1_764_000_000_123,
    })

    it('adds a viewer once, lists by name, keeps unix ms past 2^31, and deletes', async () => {
      expect(await repos.viewers.add(viewer('bob', 2_147_483_647))).toBe(true)
      expect(await repos.viewers.add(viewer('ann'))).toBe(true)
      expect(await repos.viewers.add({ ...viewer('ann'), passwordHash: 'scrypt$other' })).toBe(false)
      expect(await repos.viewers.get('ann')).toEqual(viewer('ann'))
      expect(await repos.viewers.get('nobody')).toBeUndefined()
      expect((await repos.viewers.list()).map((v) => [v.username, v.plexAccountId])).toEqual([
        ['ann', 7],
        ['bob', 2_147_483_647],
      ])
      expect(await repos.viewers.delete('ann')).toBe(true)
      expect(await repos.viewers.delete('ann')).toBe(false)
      expect(await countOf('viewers')).toBe(1)
    })

    it('keeps one of two concurrent adds of the same name', async () => {
      const added = await Promise.all([repos.viewers.add(viewer('ann', 1)), repos.viewers.add(viewer('ann', 2))])
      expect(added.filter(Boolean)).toHaveLength(1)
      expect(await countOf('viewers')).toBe(1)
    })
  })

  describe('services and traffic', () => {
    const fields = {
      name: 'A',
      url: 'http://a.example',
      type: 'app' as const,
      description: null,
      icon: null,
      group: null,
    }

    it('inserts, updates and lists services in creation order', async () => {
      await repos.services.insert('b', { ...fields, name: 'B' }, 2)
      await repos.services.insert('a', fields, 1)
      const updated = await repos.services.update('a', { name: 'A2', group: 'media' })
      expect(updated).toMatchObject({
        id: 'a',
        name: 'A2',
        group: 'media',
        url: fields.url,
        status: 'offline',
        createdAt: 1,
      })
      expect(await repos.services.update('ghost', { name: 'x' })).toBeUndefined()
      expect((await repos.services.list()).map((s) => s.name)).toEqual(['A2', 'B'])
      expect(await repos.services.count()).toBe(2)
    })

    it('adds concurrently up to the cap and not one more', async () => {
      await repos.services.insert('first', fields, 0)
      // Fewer free places than pooled connections, so that adds really run side by side.
      const adds = await Promise.all(
        Array.from({ length: 20 }, (_, i) => repos.services.insertWithin(3, `s${i}`, fields, i + 1)),
      )
      expect(adds.filter((added) => added !== undefined)).toHaveLength(2)
      expect(await repos.services.count()).toBe(3)
    })

    it('counts services by status', async () => {
      for (const id of ['a', 'b', 'c']) await repos.services.insert(id, fields, 0)
      await repos.services.recordCheck('a', fields.url, { status: 'online', checkedAt: 1, responseTimeMs: 5 })
      await repos.services.recordCheck('b', fields.url, { status: 'problem', checkedAt: 1, responseTimeMs: 5 })
      expect(await repos.services.countByStatus()).toEqual({ total: 3, online: 1, offline: 1, problem: 1 })
    })

    it('drops a check result measured for a URL the service no longer has', async () => {
      await repos.services.insert('a', fields, 0)
      await repos.services.update('a', { url: 'http://moved.example' })
      expect(
        await repos.services.recordCheck('a', fields.url, { status: 'online', checkedAt: 1, responseTimeMs: 5 }),
      ).toBe(false)
      expect((await repos.services.get('a'))?.status).toBe('offline')
    })

    it('deletes a service together with its traffic samples', async () => {
      await repos.services.insert('a', fields, 0)
      await repos.traffic.insert(sample('a', 1, 1, 1))
      expect(await repos.services.delete('a')).toBe(true)
      expect(await countOf('traffic_samples')).toBe(0)
    })

    it('refuses traffic for a service that does not exist', async () => {
      await expect(repos.traffic.insert(sample('ghost', 1, 1, 1))).rejects.toThrow(/FOREIGN KEY|foreign key/)
    })

    it('sums the positive steps of the counters inside a window, a reset adding nothing', async () => {
      await repos.services.insert('a', fields, 0)
      await repos.services.insert('b', fields, 0)
      for (const [at, up, down] of [
        [10, 1, 2],
        [20, 3, 5],
        [30, 1, 1],
        [40, 2, 4],
      ] as const)
        await repos.traffic.insert(sample('a', at, up, down))
      await repos.traffic.insert(sample('b', 15, 10, 10))
      await repos.traffic.insert(sample('b', 25, 10.5, 11))
      expect(await repos.traffic.positiveDeltaSums(0, 100)).toEqual({ upGb: 2 + 1 + 0.5, downGb: 3 + 3 + 1 })
      expect(await repos.traffic.positiveDeltaSums(15, 40)).toEqual({ upGb: 1 + 0, downGb: 3 })
      expect((await repos.traffic.latest('a'))?.at).toBe(40)
      expect([...(await repos.traffic.latestPerService()).entries()].map(([id, s]) => [id, s.at]).sort()).toEqual([
        ['a', 40],
        ['b', 25],
      ])
      expect(await repos.traffic.pruneBefore(20)).toBe(2)
    })
  })
})
