import type { CheckResult, Service, ServiceFields, ServiceStatus, ServiceType, StatusCounts } from '../services/types.js'
import type { Db } from './database.js'

interface ServiceRow {
  id: string
  name: string
  url: string
  type: ServiceType
  status: ServiceStatus
  last_check: number | null
  response_time: number | null
  description: string | null
  icon: string | null
  group: string | null
  created_at: number
}

const toService = (row: ServiceRow): Service => ({
  id: row.id,
  name: row.name,
  url: row.url,
  type: row.type,
  status: row.status,
  lastCheckAt: row.last_check,
  responseTimeMs: row.response_time,
  description: row.description,
  icon: row.icon,
  group: row.group,
  createdAt: row.created_at,
})

export type ServicesRepo = ReturnType<typeof createServicesRepo>

export function createServicesRepo(db: Db) {
  const selectAll = db.prepare<[], ServiceRow>('SELECT * FROM services ORDER BY created_at, id')
  const selectPage = db.prepare<[number, number], ServiceRow>('SELECT * FROM services ORDER BY created_at, id LIMIT ? OFFSET ?')
  const selectOne = db.prepare<[string], ServiceRow>('SELECT * FROM services WHERE id = ?')
  const insertOne = db.prepare(
    `INSERT INTO services (id, name, url, type, description, icon, "group", created_at)
     VALUES (@id, @name, @url, @type, @description, @icon, @group, @createdAt)`,
  )
  const updateFields = db.prepare(
    `UPDATE services SET name = @name, url = @url, type = @type, description = @description, icon = @icon, "group" = @group
     WHERE id = @id`,
  )
  const deleteOne = db.prepare('DELETE FROM services WHERE id = ?')
  // Matching the URL too drops a result that was measured for a URL the service no longer has.
  const updateCheck = db.prepare(
    'UPDATE services SET status = @status, last_check = @checkedAt, response_time = @responseTimeMs WHERE id = @id AND url = @url',
  )
  const countAll = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM services')
  const countStatuses = db.prepare<[], { status: ServiceStatus; n: number }>('SELECT status, COUNT(*) AS n FROM services GROUP BY status')

  return {
    /** Every service, oldest first; with `page`, only that slice of them. */
    list: (page?: { limit: number; offset: number }): Service[] =>
      (page === undefined ? selectAll.all() : selectPage.all(page.limit, page.offset)).map(toService),

    get(id: string): Service | undefined {
      const row = selectOne.get(id)
      return row && toService(row)
    },

    insert(id: string, fields: ServiceFields, createdAt: number): Service {
      insertOne.run({ id, ...fields, createdAt })
      return toService(selectOne.get(id)!)
    },

    /** Replaces the client-set fields; undefined when there is no such service. */
    update: db.transaction((id: string, fields: Partial<ServiceFields>): Service | undefined => {
      const row = selectOne.get(id)
      if (!row) return undefined
      const current = toService(row)
      updateFields.run({
        id,
        name: fields.name ?? current.name,
        url: fields.url ?? current.url,
        type: fields.type ?? current.type,
        description: fields.description !== undefined ? fields.description : current.description,
        icon: fields.icon !== undefined ? fields.icon : current.icon,
        group: fields.group !== undefined ? fields.group : current.group,
      })
      return toService(selectOne.get(id)!)
    }),

    delete: (id: string): boolean => deleteOne.run(id).changes > 0,

    /** Stores a check of `url`; false when the service is gone or its URL changed meanwhile. */
    recordCheck: (id: string, url: string, result: CheckResult): boolean => updateCheck.run({ id, url, ...result }).changes > 0,

    count: (): number => countAll.get()!.n,

    countByStatus(): StatusCounts {
      const counts = { total: 0, online: 0, offline: 0, problem: 0 }
      for (const { status, n } of countStatuses.all()) {
        counts[status] += n
        counts.total += n
      }
      return counts
    },
  }
}
