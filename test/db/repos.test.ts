import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { closeDatabase, createRepos, openDatabase, type Db, type Repos, type WatchHistoryEntry } from '../../src/db/index.js'

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

describe('repositories', () => {
  let db: Db
  let repos: Repos
  beforeEach(() => {
    db = openDatabase(':memory:')
    repos = createRepos(db)
  })
  afterEach(() => closeDatabase(db))

  describe('watch history', () => {
    it('stores a view once, even when its user is unknown (NULL)', () => {
      const anonymous = entry({ userId: null, userName: null })
      expect(repos.watchHistory.insertBatch([anonymous, anonymous])).toEqual({ added: 1, newestViewedAt: anonymous.viewedAt })
      expect(repos.watchHistory.insertBatch([anonymous])).toEqual({ added: 0, newestViewedAt: null })
      expect(repos.watchHistory.count()).toBe(1)
    })

    it('keeps the same item viewed by two users, or twice by one user', () => {
      const { added } = repos.watchHistory.insertBatch([entry(), entry({ userId: 2, userName: 'bob' }), entry({ userId: null }), entry({ viewedAt: 1_700_000_500 })])
      expect(added).toBe(4)
    })

    it('dedups rows of deleted items (no ratingKey) by their history key', () => {
      const deleted = entry({ ratingKey: null, historyKey: '/status/sessions/history/77' })
      expect(repos.watchHistory.insertBatch([deleted]).added).toBe(1)
      expect(repos.watchHistory.insertBatch([deleted]).added).toBe(0)
      expect(repos.watchHistory.insertBatch([{ ...deleted, historyKey: '/status/sessions/history/78' }]).added).toBe(1)
    })

    it('lists newest first, with limit, offset and a user filter, and round-trips every field', () => {
      const rows = [1, 2, 3, 4, 5].map((i) => entry({ viewedAt: 1_700_000_000 + i, ratingKey: String(i), userId: i % 2 }))
      const { added, newestViewedAt } = repos.watchHistory.insertBatch(rows)
      expect({ added, newestViewedAt }).toEqual({ added: 5, newestViewedAt: 1_700_000_005 })
      expect(repos.watchHistory.newestViewedAt()).toBe(1_700_000_005)

      expect(repos.watchHistory.list({ limit: 2 }).map((r) => r.ratingKey)).toEqual(['5', '4'])
      expect(repos.watchHistory.list({ limit: 2, offset: 2 }).map((r) => r.ratingKey)).toEqual(['3', '2'])
      expect(repos.watchHistory.list({ limit: 10, userId: 1 }).map((r) => r.ratingKey)).toEqual(['5', '3', '1'])
      expect(repos.watchHistory.list({ limit: 1 })[0]).toEqual(rows[4])
    })

    it('removes a Plex token from a thumb path before storing it', () => {
      repos.watchHistory.insertBatch([entry({ thumb: '/library/metadata/10/thumb/1?X-Plex-Token=secret123' })])
      expect(repos.watchHistory.list({ limit: 1 })[0]!.thumb).toBe('/library/metadata/10/thumb/1')
      expect(JSON.stringify(db.prepare('SELECT * FROM watch_history').all())).not.toContain('secret123')
    })

    it('has no newest view while empty', () => {
      expect(repos.watchHistory.newestViewedAt()).toBeNull()
    })
  })

  describe('plex stats', () => {
    it('raises the peak only when higher and resets it to zero', () => {
      expect(repos.plexStats.get()).toEqual({ peakConcurrent: 0, lastUpdated: null })
      expect(repos.plexStats.raisePeak(4, 1_000)).toEqual({ peakConcurrent: 4, lastUpdated: 1_000 })
      expect(repos.plexStats.raisePeak(3, 2_000)).toEqual({ peakConcurrent: 4, lastUpdated: 1_000 })
      expect(repos.plexStats.raisePeak(7, 3_000)).toEqual({ peakConcurrent: 7, lastUpdated: 3_000 })
      expect(repos.plexStats.resetPeak(4_000)).toEqual({ peakConcurrent: 0, lastUpdated: 4_000 })
    })
  })

  describe('settings', () => {
    it('stores JSON values by key, replacing and deleting them', () => {
      expect(repos.settings.get('plex')).toBeUndefined()
      repos.settings.set('plex', { url: 'http://plex:32400', token: 't' }, 1)
      repos.settings.set('plex', { url: 'http://other:32400', token: 'u' }, 2)
      expect(repos.settings.get('plex')).toEqual({ url: 'http://other:32400', token: 'u' })
      expect(repos.settings.delete('plex')).toBe(true)
      expect(repos.settings.get('plex')).toBeUndefined()
    })
  })

  describe('services and traffic', () => {
    const fields = { name: 'A', url: 'http://a.example', type: 'app' as const, description: null, icon: null, group: null }

    it('counts services by status', () => {
      for (const id of ['a', 'b', 'c']) repos.services.insert(id, fields, 0)
      repos.services.recordCheck('a', fields.url, { status: 'online', checkedAt: 1, responseTimeMs: 5 })
      repos.services.recordCheck('b', fields.url, { status: 'problem', checkedAt: 1, responseTimeMs: 5 })
      expect(repos.services.countByStatus()).toEqual({ total: 3, online: 1, offline: 1, problem: 1 })
    })

    it('drops a check result measured for a URL the service no longer has', () => {
      repos.services.insert('a', fields, 0)
      repos.services.update('a', { url: 'http://moved.example' })
      expect(repos.services.recordCheck('a', fields.url, { status: 'online', checkedAt: 1, responseTimeMs: 5 })).toBe(false)
      expect(repos.services.get('a')?.status).toBe('offline')
    })

    it('deletes a service together with its traffic samples', () => {
      repos.services.insert('a', fields, 0)
      repos.traffic.insert({ serviceId: 'a', at: 1, bandwidthUp: 0, bandwidthDown: 0, totalUp: 1, totalDown: 1, maxBandwidth: null, cpuPercent: null, memoryPercent: null })
      expect(repos.services.delete('a')).toBe(true)
      expect(db.prepare('SELECT COUNT(*) AS n FROM traffic_samples').get()).toEqual({ n: 0 })
    })

    it('refuses traffic for a service that does not exist', () => {
      expect(() =>
        repos.traffic.insert({ serviceId: 'ghost', at: 1, bandwidthUp: 0, bandwidthDown: 0, totalUp: 1, totalDown: 1, maxBandwidth: null, cpuPercent: null, memoryPercent: null }),
      ).toThrow(/FOREIGN KEY/)
    })
  })
})
