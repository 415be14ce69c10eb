// `npm start`: build when dist/ is missing or older than src/, then run the built service,
// forwarding SIGTERM/SIGINT to it and exiting with its code.
import { spawn, spawnSync } from 'node:child_process'
import console from 'node:console'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const entry = join(root, 'dist', 'src', 'main.js')

function newestMtime(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

if (!existsSync(entry) || statSync(entry).mtimeMs < newestMtime(join(root, 'src'))) {
  console.error('komandorr-cache: building (tsc -p tsconfig.build.json)...')
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
  if (build.status !== 0) {
    console.error('komandorr-cache: the build failed (see above); fix it or run `npm run dev` to start from the sources')
    process.exit(build.status ?? 1)
  }
}

// Its own process group: a Ctrl-C in the terminal reaches only this script, which forwards it
// once (the service treats a second signal as "exit now").
const child = spawn(process.execPath, ['--enable-source-maps', entry, ...process.argv.slice(2)], { stdio: 'inherit', detached: true })

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
  })
}

child.on('exit', (code, signal) => {
  process.exit(code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1))
})
