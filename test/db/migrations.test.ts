import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { closeDatabase, openDatabase } from '../../src/db/index.js'
import { migrate, migrations } from '../../src/db/migrations.js'

describe('database and migrations', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'komandorr-db-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('creates the folder and a file only its owner can read, in WAL mode with foreign keys on', () => {
    const path = join(dir, 'nested', 'deeper', 'komandorr.db')
    const db = openDatabase(path)
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1)
    expect(db.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    closeDatabase(db)
  })

  it('applies each migration once: reopening and migrating again changes nothing', () => {
    const path = join(dir, 'k.db')
    const first = openDatabase(path)
    first.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('kept', '1', 0)").run()
    expect(migrate(first)).toBe(0)
    closeDatabase(first)

    const again = openDatabase(path)
    expect(migrate(again)).toBe(0)
    const applied = again.prepare('SELECT version FROM schema_migrations ORDER BY version').all()
    expect(applied).toEqual(migrations.map((m) => ({ version: m.version })))
    expect(again.prepare("SELECT value FROM settings WHERE key = 'kept'").get()).toEqual({ value: '1' })
    closeDatabase(again)
  })

  it('runs only the migrations the database lacks, in version order, each all or nothing', () => {
    const db = new Database(':memory:')
    const list = [
      { version: 2, name: 'second', sql: 'ALTER TABLE t ADD COLUMN b TEXT' },
      { version: 1, name: 'first', sql: 'CREATE TABLE t (a TEXT)' },
    ]
    expect(migrate(db, list.slice(1))).toBe(1)
    expect(migrate(db, list)).toBe(1)
    expect(db.prepare('SELECT name FROM pragma_table_info(?)').all('t')).toEqual([{ name: 'a' }, { name: 'b' }])

    const broken = [...list, { version: 3, name: 'broken', sql: 'CREATE TABLE u (x); CREATE TABLE nope nope' }]
    expect(() => migrate(db, broken)).toThrow()
    expect(db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'u'").get()).toEqual({ n: 0 })
    expect(db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get()).toEqual({ v: 2 })
    db.close()
  })

  it('refuses a database written by a newer build', () => {
    const path = join(dir, 'future.db')
    closeDatabase(openDatabase(path))
    const raw = new Database(path)
    raw.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)").run()
    raw.close()
    expect(() => openDatabase(path)).toThrow(/schema version 999/)
  })

  it('closes with the WAL folded back into the main file', () => {
    const path = join(dir, 'wal.db')
    const db = openDatabase(path)
    db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('k', '\"v\"', 0)").run()
    closeDatabase(db)
    closeDatabase(db) // twice is fine
    expect(() => statSync(`${path}-wal`)).toThrow()
    const reopened = new Database(path, { readonly: true })
    expect(reopened.prepare("SELECT value FROM settings WHERE key = 'k'").get()).toEqual({ value: '"v"' })
    reopened.close()
  })
})
