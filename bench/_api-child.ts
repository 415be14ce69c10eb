// A TypeScript entry point run as a child process (its own event loop, like a deployed
// service), with its stdout drained so that a chatty child never blocks on a full pipe.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** tsx's loader as a file URL, so the child may run in any working directory. */
const TSX_LOADER = import.meta.resolve('tsx')
const LOG_TAIL_LINES = 40
const STOP_GRACE_MS = 6_000

export interface ChildOptions {
  /** The .ts file to run, relative to the repository root. */
  script: string
  args?: string[]
  /** Options for node itself, before the script (e.g. `--cpu-prof`). */
  nodeArgs?: string[]
  /** The child's whole environment (nothing is inherited but PATH and HOME). */
  env?: Record<string, string>
  cwd?: string
  /** Resolves once a line of stdout matches; the first capture group is returned. */
  ready: RegExp
  readyTimeoutMs?: number
}

export interface RunningChild {
  readonly child: ChildProcess
  /** The first capture group of the `ready` match. */
  readonly readyMatch: string
  /** The last lines the child wrote (stdout and stderr), for error messages. */
  tail(): string
  /** SIGTERM, then SIGKILL if it has not exited within a few seconds. */
  stop(): Promise<void>
}

export async function startChild(options: ChildOptions): Promise<RunningChild> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', TSX_LOADER, fileURLToPath(new URL(`../${options.script}`, import.meta.url)), ...(options.args ?? [])], {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  const remember = (line: string) => {
    lines.push(line)
    if (lines.length > LOG_TAIL_LINES) lines.shift()
  }
  const tail = () => lines.join('\n')
  let pendingErr = ''
  child.stderr!.on('data', (d: Buffer) => {
    const parts = (pendingErr + d.toString()).split('\n')
    pendingErr = parts.pop() ?? ''
    parts.forEach(remember)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))

  const readyMatch = await new Promise<string>((resolve, reject) => {
    let pending = ''
    let found = false
    const timer = setTimeout(() => reject(new Error(`${options.script} did not get ready within ${options.readyTimeoutMs ?? 60_000} ms:\n${tail()}`)), options.readyTimeoutMs ?? 60_000)
    child.stdout!.on('data', (d: Buffer) => {
      const parts = (pending + d.toString()).split('\n')
      pending = parts.pop() ?? ''
      for (const line of parts) {
        remember(line)
        const m = found ? null : options.ready.exec(line)
        if (m) {
          found = true
          clearTimeout(timer)
          resolve(m[1] ?? m[0])
        }
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      if (!found) reject(new Error(`${options.script} exited (${code ?? signal}) before it was ready:\n${tail()}`))
    })
  }).catch(async (error: unknown) => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
    throw error
  })

  return {
    child,
    readyMatch,
    tail,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
      await exited
      clearTimeout(timer)
    },
  }
}
