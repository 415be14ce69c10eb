// `npm run db:migrate-from-sqlite -- <file>`: copies the service's SQLite database into the
// PostgreSQL of DATABASE_URL (migrating it first), and prints the row counts it checked.
import { existsSync } from 'node:fs'
import { loadConfig } from '../src/config.js'
import { CACHES } from '../src/features/caches/index.js'
import { copyFromSqlite } from '../src/db/copy-from-sqlite.js'
import { openPostgres, withoutPassword } from '../src/db/index.js'

function fail(message: string): never {
  console.error(`db:migrate-from-sqlite: ${message}`)
  process.exit(1)
}

if (existsSync('.env')) process.loadEnvFile('.env')
const file = process.argv[2]
if (!file) fail('give the SQLite file to copy: npm run db:migrate-from-sqlite -- data/komandorr.db')
let config
try {
  config = loadConfig(process.env, CACHES)
} catch (error) {
  fail((error as Error).message)
}
if (config.database.url === null)
  fail('set DATABASE_URL to the PostgreSQL to copy into (postgres://user:password@host:5432/db)')

const target = openPostgres(config.database)
try {
  const copies = await copyFromSqlite(file, target)
  console.log(`copied ${file} into ${withoutPassword(config.database.url)}`)
  console.log(
    `${'table'.padEnd(16)} ${'in SQLite'.padStart(10)} ${'added'.padStart(10)} ${'in PostgreSQL'.padStart(14)}`,
  )
  for (const c of copies)
    console.log(
      `${c.table.padEnd(16)} ${String(c.source).padStart(10)} ${String(c.added).padStart(10)} ${String(c.target).padStart(14)}`,
    )
  console.log('row counts checked: PostgreSQL holds every row of the file')
} catch (error) {
  fail(withoutPassword((error as Error).message))
} finally {
  await target.close()
}
