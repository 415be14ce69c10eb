// `npm start`: build when dist/ is missing or older than src/, then run the built service,
// forwarding SIGTERM/SIGINT to it and exiting with its code.
//
// package.json runs this script with `exec`, so npm's child is this process rather than a shell:
// npm passes the SIGTERM it gets (from Docker, systemd, or kill) to its child only, and a shell
// would die of it and leave the service running.
import { spawn } from 'node:child_process'
import console from 'node:console'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { constants } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import process from 'node:process'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const entry = join(root, 'dist', 'src', 'main.js')
/** A shell's exit code for a process killed by `signal`: 128 + its number. */
const exitCodeOf = (signal) => 128 + (constants.signals[signal] ?? 0)

/** The process currently running: tsc while building, then the service. */
let current = null
let stopping = false

// A Ctrl-C reaches this script twice, from the terminal (the process group) and from npm, which
// passes on what it gets: copies within this window are one stop, or the service would read the
// second as "exit now, without draining". A signal after it is passed on (a second Ctrl-C).
const DUPLICATE_SIGNAL_MS = 1_000
let forwardedAt = -Infinity

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    stopping = true
    if (current === null) process.exit(exitCodeOf(signal))
    if (current.exitCode !== null || current.signalCode !== null) return
    const now = performance.now()
    if (now - forwardedAt < DUPLICATE_SIGNAL_MS) return
    forwardedAt = now
    current.kill(signal)
  })
}

/** Runs a child to its end; resolves with its exit code. */
function run(args, options) {
  current = spawn(process.execPath, args, { cwd: root, stdio: 'inherit', ...options })
  return new Promise((resolve) => {
    current.once('error', (error) => {
      console.error(`komandorr-cache: cannot start ${args.join(' ')}: ${error.message}`)
      resolve(1)
    })
    current.once('exit', (code, signal) => resolve(code ?? exitCodeOf(signal)))
  })
}

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
  const code = await run([join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'])
  if (stopping) process.exit(code)
  if (code !== 0) {
    console.error(
      'komandorr-cache: the build failed (see above); fix it or run `npm run dev` to start from the sources',
    )
    process.exit(code)
  }
}

// Its own process group (detached): a Ctrl-C in the terminal reaches this script, which
// forwards it once, and not the service a second time.
process.exit(await run(['--enable-source-maps', entry, ...process.argv.slice(2)], { detached: true }))
