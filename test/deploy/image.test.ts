// The Dockerfile, checked without a container engine: its build steps are the README's, and its
// runtime stage (dist/src, package.json and the production dependencies only) is rebuilt in a
// temporary folder and run: the entry starts, every import resolves without dev dependencies,
// the HEALTHCHECK command passes, SIGTERM stops it with exit 0.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { tmpdir } from 'node:os'
import { basename, dirname, join, relative } from 'node:path'
import { spawnSync } from 'node:child_process'
import { transformSync } from 'esbuild'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, startChild } from '../../bench/support/child-process.js'

interface Instruction {
  readonly keyword: string
  readonly args: string
}

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
function instructions(text: string): Instruction[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
  return logical
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/)
      return { keyword: keyword!.toUpperCase(), args: rest.join(' ').replace(/\s+/g, ' ') }
    })
}

const dockerfile = instructions(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))
const all = (keyword: string) => dockerfile.filter((i) => i.keyword === keyword).map((i) => i.args)
const execForm = (args: string) => JSON.parse(args) as string[]

const cmd = execForm(all('CMD').at(-1)!)
const healthcheck = execForm(/CMD (\[.*\])$/.exec(all('HEALTHCHECK')[0]!)![1]!)
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }

/** The commands of the README's "The image's build steps" block, comments dropped. */
function readmeSteps(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const block = /### The image's build steps[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)
  if (!block) throw new Error('README.md has no "### The image\'s build steps" section with a ```sh block')
  return block[1]!
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean)
}

describe('Dockerfile', () => {
  it("builds with the README's steps: the same npm commands in the same order, and the same command run", () => {
    const npmSteps = all('RUN')
      .flatMap((run) => run.split('&&').map((c) => c.trim()))
      .filter((c) => c.startsWith('npm '))
    expect(readmeSteps()).toEqual([...npmSteps, cmd.join(' ')])
  })

  it('is node 20 on Debian bookworm slim, non-root, port 8000, data in a volume', () => {
    const bases = all('FROM').map((from) => from.split(' ')[0]!)
    const stages = new Set(all('FROM').map((from) => from.split(' AS ')[1]))
    for (const base of bases) if (!stages.has(base)) expect(base).toBe('node:20-bookworm-slim')
    expect(all('USER').at(-1)).toBe('node')
    expect(all('EXPOSE')).toEqual(['8000'])
    expect(all('VOLUME')).toEqual(['["/app/data"]'])
    expect(all('ENV').join(' ')).toMatch(/DATABASE_PATH=\/app\/data\/komandorr\.db/)
    // The native module is built where the compiler is: the runtime stage gets node_modules from there.
    const runtimeFrom = all('FROM').findIndex((from) => from.endsWith('AS runtime'))
    expect(runtimeFrom).toBe(all('FROM').length - 1)
    expect(all('COPY')).toContain('--from=deps /app/node_modules ./node_modules')
    expect(healthcheck.slice(0, 2)).toEqual(['node', '-e'])
  })

  it("runs the build's output: tsc emits src/main.ts to the CMD's entry, inside what the runtime stage copies", () => {
    const parsed = ts.getParsedCommandLineOfConfigFile(
      join(ROOT, 'tsconfig.build.json'),
      {},
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
    )!
    const emitted = ts.getOutputFileNames(parsed, join(ROOT, 'src/main.ts'), false).map((f) => relative(ROOT, f))
    const entry = cmd.at(-1)!
    expect(emitted).toContain(entry)
    const copiedDist = all('COPY')
      .find((c) => c.startsWith('--from=build '))!
      .split(' ')[1]!
      .replace('/app/', '')
    expect(entry.startsWith(`${copiedDist}/`)).toBe(true)
  })
})

describe('the runtime stage, rebuilt in a temporary folder', () => {
  let app: string

  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), 'runtime-stage-'))
    // `npm run build`'s JavaScript for src/ (what the runtime stage copies), by esbuild in a second
    // where tsc takes a minute on a loaded machine: TypeScript's isolatedModules and
    // verbatimModuleSyntax (tsconfig.json) make the two emit the same imports; `npm run typecheck`
    // proves tsc compiles it all.
    const sources = readdirSync(join(ROOT, 'src'), { withFileTypes: true, recursive: true }).filter(
      (e) => e.isFile() && e.name.endsWith('.ts'),
    )
    for (const source of sources) {
      const file = join(source.parentPath, source.name)
      const out = join(app, 'dist', relative(ROOT, file).replace(/\.ts$/, '.js'))
      mkdirSync(dirname(out), { recursive: true })
      writeFileSync(
        out,
        transformSync(readFileSync(file, 'utf8'), {
          loader: 'ts',
          format: 'esm',
          target: 'es2022',
          tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
        }).code,
      )
    }
    cpSync(join(ROOT, 'package.json'), join(app, 'package.json'))
    cpSync(join(ROOT, 'web'), join(app, 'web'), { recursive: true })
    // What `npm ci --omit=dev` installs: the lockfile's packages not marked dev (nested ones come
    // inside their parents), hard-linked (one file system) rather than copied.
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>
    }
    const byFolder = new Map<string, string[]>()
    for (const [path, meta] of Object.entries(lock.packages)) {
      if (path === '' || meta.dev || path.lastIndexOf('node_modules/') !== 0) continue
      const folder = dirname(path)
      byFolder.set(folder, [...(byFolder.get(folder) ?? []), join(ROOT, path)])
    }
    for (const [folder, packages] of byFolder) {
      mkdirSync(join(app, folder), { recursive: true })
      const linked = spawnSync('cp', ['-al', ...packages, join(app, folder)])
      if (linked.status !== 0)
        for (const source of packages) cpSync(source, join(app, folder, basename(source)), { recursive: true })
    }
  })

  afterAll(() => rmSync(app, { recursive: true, force: true }))

  it('imports nothing but Node built-ins, package.json dependencies and its own files', () => {
    const builtins = new Set(builtinModules)
    const strays: string[] = []
    const packagesImported = new Set<string>()
    for (const entry of readdirSync(join(app, 'dist/src'), { withFileTypes: true, recursive: true })) {
      if (!entry.name.endsWith('.js')) continue
      const file = join(entry.parentPath, entry.name)
      for (const m of readFileSync(file, 'utf8').matchAll(
        /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]/gm,
      )) {
        const specifier = (m[1] ?? m[2] ?? m[3])!
        if (specifier.startsWith('.')) {
          if (!existsSync(join(dirname(file), specifier)))
            strays.push(`${relative(app, file)}: ${specifier} (outside dist/src)`)
          continue
        }
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!
        if (builtins.has(specifier.replace(/^node:/, ''))) continue
        packagesImported.add(name)
        if (!(name in pkg.dependencies)) strays.push(`${relative(app, file)}: ${specifier}`)
      }
    }
    expect(strays).toEqual([])
    expect([...packagesImported]).toEqual(
      expect.arrayContaining(['fastify', 'better-sqlite3', '@fastify/static', 'ioredis']),
    )
  })

  it('starts with the CMD, passes the HEALTHCHECK, and stops on SIGTERM with exit 0', async () => {
    const env = { HOST: '127.0.0.1', PORT: '0', DATABASE_PATH: join(app, 'data/komandorr.db'), NODE_ENV: 'production' }
    const service = await startChild({
      command: process.execPath,
      args: cmd.slice(1),
      cwd: app,
      env,
      ready: /"port":(\d+).*komandorr-cache is listening/,
      readyTimeoutMs: 30_000,
    })
    try {
      const port = service.readyMatch
      const probe = (p: string) =>
        spawnSync(healthcheck[0] === 'node' ? process.execPath : healthcheck[0]!, healthcheck.slice(1), {
          env: { PORT: p },
          timeout: 10_000,
        })
      expect(probe(port).status).toBe(0)
      expect((await fetch(`http://127.0.0.1:${port}/api/health/ready`)).status).toBe(200)
      service.child.kill('SIGTERM')
      expect(await service.exited).toEqual({ code: 0, signal: null })
      expect(existsSync(join(app, 'data/komandorr.db'))).toBe(true)
      expect(probe(port).status).toBe(1)
    } finally {
      await service.stop()
    }
  })
})
