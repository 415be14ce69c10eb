// `npm run bench -- <name> [args]` runs bench/<name>.ts's exported main(args). Every .ts file
// directly in bench/ but this one is a benchmark; their helpers live in folders (bench/api/,
// bench/images/, bench/support/).
import { readdirSync } from 'node:fs'

const [name, ...args] = process.argv.slice(2)
const available = readdirSync(new URL('.', import.meta.url), { withFileTypes: true })
  .filter((f) => f.isFile() && f.name.endsWith('.ts') && f.name !== 'run.ts')
  .map((f) => f.name.slice(0, -3))

if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join('|')}> [--json]`)
  process.exit(name ? 2 : 0)
}
const mod = (await import(`./${name}.ts`)) as { main: (args: string[]) => Promise<void> }
await mod.main(args)
