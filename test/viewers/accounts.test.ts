import { afterEach, describe, expect, it } from 'vitest'
import { createCacheRegistry, LocalBus, ManualClock, noopBus, type InvalidationBus } from '../../src/cache/index.js'
import { createRepos, migrate, openSqlite, type Database } from '../../src/db/index.js'
import { LOGIN_RECHECK_MS, ViewerAccounts } from '../../src/features/viewers/accounts.js'
import { eventually } from '../support/eventually.js'

const AUTH = { enabled: true, username: 'admin' }
const PASSWORD = 'a long viewer password'

let db: Database | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

/** Two instances' accounts on one database (one SQLite connection stands for the shared database). */
async function twoInstances(bus: InvalidationBus) {
  db = openSqlite(':memory:')
  await migrate(db.kysely, 'sqlite')
  const repo = createRepos({ db: db.kysely, engine: 'sqlite' }).viewers
  const clock = new ManualClock()
  const instance = () => new ViewerAccounts({ repo, registry: createCacheRegistry({ clock, bus }), clock, auth: AUTH })
  return { clock, a: instance(), b: instance() }
}

describe('viewer sign-in', () => {
  it('answers a remembered login from memory, without a promise; a wrong password still costs scrypt', async () => {
    const { a } = await twoInstances(noopBus)
    expect((await a.create({ username: 'ann', password: PASSWORD, plexAccountId: 7 })).ok).toBe(true)
    expect(a.recall(a.logins.of('ann', PASSWORD))).toBeUndefined()
    const first = a.authenticate('ann', PASSWORD)
    expect(first).toBeInstanceOf(Promise)
    expect((await first)?.plexAccountId).toBe(7)
    const again = a.authenticate('ann', PASSWORD)
    expect(again).not.toBeInstanceOf(Promise)
    expect(again).toMatchObject({ username: 'ann', plexAccountId: 7 })
    expect(a.recall(a.logins.of('ann', PASSWORD))).toBe(again)
    const wrong = a.authenticate('ann', `${PASSWORD}!`)
    expect(wrong).toBeInstanceOf(Promise)
    expect(await wrong).toBeUndefined()
    expect(a.recall(a.logins.of('ann', `${PASSWORD}!`))).toBeUndefined()
  })

  it('forgets a deleted viewer on every instance the bus reaches, before the next request', async () => {
    const { a, b } = await twoInstances(new LocalBus())
    await a.create({ username: 'ann', password: PASSWORD, plexAccountId: 7 })
    await b.authenticate('ann', PASSWORD)
    expect(b.recall(b.logins.of('ann', PASSWORD))).toBeDefined()
    expect(await a.delete('ann')).toBe(true)
    expect(b.recall(b.logins.of('ann', PASSWORD))).toBeUndefined()
    expect(await b.authenticate('ann', PASSWORD)).toBeUndefined()
    expect(await a.authenticate('ann', PASSWORD)).toBeUndefined()
  })

  it('without a bus, refuses a viewer deleted elsewhere once its login is checked again (LOGIN_RECHECK_MS)', async () => {
    const { clock, a, b } = await twoInstances(noopBus)
    await a.create({ username: 'ann', password: PASSWORD, plexAccountId: 7 })
    await b.authenticate('ann', PASSWORD)
    expect(await a.delete('ann')).toBe(true)
    // Within the recheck interval b still answers from memory; the database is not read per request.
    expect(b.authenticate('ann', PASSWORD)).toMatchObject({ username: 'ann' })
    await clock.advance(LOGIN_RECHECK_MS)
    // This request starts the background check (and is answered from memory); once it is done, refused.
    expect(b.authenticate('ann', PASSWORD)).toMatchObject({ username: 'ann' })
    await eventually(
      'the background check forgot the login',
      () => b.recall(b.logins.of('ann', PASSWORD)) === undefined,
      5_000,
    )
    expect(await b.authenticate('ann', PASSWORD)).toBeUndefined()
  })

  it('without a bus, refuses the old password of a viewer made again elsewhere once checked again', async () => {
    const { clock, a, b } = await twoInstances(noopBus)
    await a.create({ username: 'ann', password: PASSWORD, plexAccountId: 7 })
    await b.authenticate('ann', PASSWORD)
    await a.delete('ann')
    await a.create({ username: 'ann', password: `${PASSWORD} 2`, plexAccountId: 7 })
    await clock.advance(LOGIN_RECHECK_MS)
    expect(b.authenticate('ann', PASSWORD)).toMatchObject({ username: 'ann' })
    await eventually(
      'the background check forgot the old password',
      () => b.recall(b.logins.of('ann', PASSWORD)) === undefined,
      5_000,
    )
    expect(await b.authenticate('ann', PASSWORD)).toBeUndefined()
    expect((await b.authenticate('ann', `${PASSWORD} 2`))?.username).toBe('ann')
  })
})
