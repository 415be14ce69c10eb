// A program run as a child process (its own event loop, like a deployed service) until a line
// of its stdout says it is ready, with its output drained so that a chatty child never blocks
// on a full pipe. Used by the benchmarks and by the tests that run a command line.
import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** tsx's loader as a file URL, so the child may run in any working directory (createRequire, as vitest has no import.meta.resolve). */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
const LOG_TAIL_LINES = 40
const STOP_GRACE_MS = 6_000
const DEFAULT_READY_TIMEOUT_MS = 60_000

export interface ChildOptions {
  /** A .ts file, relative to the repository root, run with tsx; or, with `command`, nothing. */
  script?: string
  /** An executable (looked up in PATH) to run instead of a script, e.g. `npm`. */
  command?: string
  args?: string[]
  /** Options for node itself, before a script (e.g. `--cpu-prof`). */
  nodeArgs?: string[]
  /** The child's whole environment (nothing is inherited but PATH and HOME). */
  env?: Record<string, string>
  cwd?: string
  /** In a process group of its own (its pid is the group's id), as a shell runs a command. */
  detached?: boolean
  /** Resolves once a line of stdout matches; the first capture group is returned. */
  ready: RegExp
  readyTimeoutMs?: number
}

export interface ChildExit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface RunningChild {
  readonly child: ChildProcess
  /** The first capture group of the `ready` match (the whole match without a group). */
  readonly readyMatch: string
  /** Settles when the child has exited. */
  readonly exited: Promise<ChildExit>
  /** The last lines the child wrote (stdout and stderr), for error messages. */
  tail(): string
  /** SIGTERM, then SIGKILL if it has not exited within a few seconds. */
  stop(): Promise<ChildExit>
}

function spawnChild(options: ChildOptions): ChildProcess {
  const args = options.args ?? []
  let file = options.command
  let argv = args
  if (file === undefined) {
    if (options.script === undefined) throw new Error('startChild needs a script or a command')
    file = process.execPath
    argv = [
      ...(options.nodeArgs ?? []),
      '--import',
      TSX_LOADER,
      fileURLToPath(new URL(`../../${options.script}`, import.meta.url)),
      ...args,
    ]
  }
  return spawn(file, argv, {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  })
}

/** Calls `onLine` for every complete line of a stream. */
function eachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let pending = ''
  stream.on('data', (d: Buffer) => {
    const parts = (pending + d.toString()).split('\n')
    pending = parts.pop() ?? ''
    parts.forEach(onLine)
  })
}

export async function startChild(options: ChildOptions): Promise<RunningChild> {
  const name = options.command !== undefined ? [options.command, ...(options.args ?? [])].join(' ') : options.script
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS
  const child = spawnChild(options)
  const lines: string[] = []
  const remember = (line: string) => {
    lines.push(line)
    if (lines.length > LOG_TAIL_LINES) lines.shift()
  }
  const tail = () => lines.join('\n')
  const exited = new Promise<ChildExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  eachLine(child.stderr!, remember)

  const readyMatch = await new Promise<string>((resolve, reject) => {
    let found = false
    const timer = setTimeout(
      () => reject(new Error(`${name} did not get ready within ${readyTimeoutMs} ms:\n${tail()}`)),
      readyTimeoutMs,
    )
    eachLine(child.stdout!, (line) => {
      remember(line)
      const m = found ? null : options.ready.exec(line)
      if (m) {
        found = true
        clearTimeout(timer)
        resolve(m[1] ?? m[0])
      }
    })
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      if (!found) reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${tail()}`))
    })
  }).catch(async (error: unknown) => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    if (child.pid !== undefined) await exited
    throw error
  })

  return {
    child,
    readyMatch,
    exited,
    tail,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
      const exit = await exited
      clearTimeout(timer)
      return exit
    },
  }
}
