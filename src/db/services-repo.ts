import { sql, type Selectable } from 'kysely'
import type { CheckResult, Service, ServiceFields, StatusCounts } from '../features/monitored-services/types.js'
import type { DbSource } from './connection.js'
import type { ServicesTable } from './schema.js'

const toService = (row: Selectable<ServicesTable>): Service => ({
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

const SERVICES_CAP_LOCK_KEY = 7_311_420_616

export type ServicesRepo = ReturnType<typeof createServicesRepo>

export function createServicesRepo(source: DbSource) {
  const selectOne = (id: string) => source.db.selectFrom('services').selectAll().where('id', '=', id)

  return {
    /** Every service, oldest first; with `page`, only that slice of them. */
    async list(page?: { limit: number; offset: number }): Promise<Service[]> {
      const all = source.db.selectFrom('services').selectAll().orderBy('created_at').orderBy('id')
      const rows = await (page === undefined ? all : all.limit(page.limit).offset(page.offset)).execute()
      return rows.map(toService)
    },

    async get(id: string): Promise<Service | undefined> {
      const row = await selectOne(id).executeTakeFirst()
      return row && toService(row)
    },

    async insert(id: string, fields: ServiceFields, createdAt: number): Promise<Service> {
      await source.db
        .insertInto('services')
        .values({ id, ...fields, created_at: createdAt })
        .execute()
      return toService(await selectOne(id).executeTakeFirstOrThrow())
    },

    /**
     * Inserts unless `max` services exist already (undefined then). The count and the insert are
     * one step for every instance: SQLite writes one transaction at a time, and on PostgreSQL a
     * transaction-scoped advisory lock orders concurrent adds, which READ COMMITTED would not.
     */
    async insertWithin(
      max: number,
      id: string,
      fields: ServiceFields,
      createdAt: number,
    ): Promise<Service | undefined> {
      return source.db.transaction().execute(async (trx) => {
        if (source.engine === 'postgres') await sql`SELECT pg_advisory_xact_lock(${SERVICES_CAP_LOCK_KEY})`.execute(trx)
        const { n } = await trx
          .selectFrom('services')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
        if (Number(n) >= max) return undefined
        const row = await trx
          .insertInto('services')
          .values({ id, ...fields, created_at: createdAt })
          .returningAll()
          .executeTakeFirstOrThrow()
        return toService(row)
      })
    },

    /** Replaces the client-set fields; undefined when there is no such service. */
    async update(id: string, fields: Partial<ServiceFields>): Promise<Service | undefined> {
      return source.db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('services').selectAll().where('id', '=', id).executeTakeFirst()
        if (!row) return undefined
        const current = toService(row)
        const next = {
          name: fields.name ?? current.name,
          url: fields.url ?? current.url,
          type: fields.type ?? current.type,
          description: fields.description !== undefined ? fields.description : current.description,
          icon: fields.icon !== undefined ? fields.icon : current.icon,
          group: fields.group !== undefined ? fields.group : current.group,
        }
        const updated = await trx
          .updateTable('services')
          .set(next)
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow()
        return toService(updated)
      })
    },

    async delete(id: string): Promise<boolean> {
      const result = await source.db.deleteFrom('services').where('id', '=', id).executeTakeFirst()
      return result.numDeletedRows > 0n
    },

    /** Stores a check of `url`; false when the service is gone or its URL changed meanwhile. */
    async recordCheck(id: string, url: string, result: CheckResult): Promise<boolean> {
      // Matching the URL too drops a result that was measured for a URL the service no longer has.
      const outcome = await source.db
        .updateTable('services')
        .set({ status: result.status, last_check: result.checkedAt, response_time: result.responseTimeMs })
        .where('id', '=', id)
        .where('url', '=', url)
        .executeTakeFirst()
      return outcome.numUpdatedRows > 0n
    },

    async count(): Promise<number> {
      const row = await source.db
        .selectFrom('services')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
      return Number(row.n)
    },

    async countByStatus(): Promise<StatusCounts> {
      const rows = await source.db
        .selectFrom('services')
        .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy('status')
        .execute()
      const counts = { total: 0, online: 0, offline: 0, problem: 0 }
      for (const { status, n } of rows) {
        counts[status] += Number(n)
        counts.total += Number(n)
      }
      return counts
    },
  }
}
