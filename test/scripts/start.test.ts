// `npm start` stopped the way Docker, systemd and a terminal stop it: the signal goes to npm (or
// to the terminal's process group), and the service must drain, exit 0 and free its port, with no
// process of the tree left behind. It reads the process tree from /proc (Linux, as CI).
import { readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { startChild, type ChildExit, type RunningChild } from '../../bench/support/child-process.js'

/** `npm start` builds first when dist/ is older than src/ (tsc takes tens of seconds on CI). */
const READY_TIMEOUT_MS = 150_000
/** The service's drain deadline is 5 s; npm, the start script and the service exit within it. */
const STOP_TIMEOUT_MS = 10_000

function startNpm(): Promise<RunningChild> {
  return startChild({
    command: 'npm',
    args: ['start'],
    env: { HOST: '127.0.0.1', PORT: '0', DATABASE_PATH: ':memory:', LOG_LEVEL: 'info' },
    ready: /"port":(\d+).*komandorr-cache is listening/,
    readyTimeoutMs: READY_TIMEOUT_MS,
    detached: true,
  })
}

function parentPids(): Map<number, number> {
  const parents = new Map<number, number>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {
      // exited while we read
    }
  }
  return parents
}

/** Every process below `root`, with its command line. */
function descendants(root: number): { pid: number; command: string }[] {
  const parents = parentPids()
  const found: number[] = []
  const queue = [root]
  while (queue.length > 0) {
    const parent = queue.shift()!
    for (const [pid, ppid] of parents)
      if (ppid === parent) {
        found.push(pid)
        queue.push(pid)
      }
  }
  return found.map((pid) => {
    try {
      return { pid, command: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim() }
    } catch {
      return { pid, command: '' }
    }
  })
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer()
    probe.once('error', () => resolve(false))
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)))
  })
}

async function exitWithin(npm: RunningChild, ms: number): Promise<ChildExit | 'still running'> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)))
  try {
    return await Promise.race([npm.exited, late])
  } finally {
    clearTimeout(timer)
  }
}

/** Starts `npm start`, checks it serves, stops it with `stop`, and checks nothing is left. */
async function startAndStop(stop: (npm: RunningChild) => void): Promise<void> {
  const npm = await startNpm()
  const tree = descendants(npm.child.pid!)
  try {
    const port = Number(npm.readyMatch)
    expect((await fetch(`http://127.0.0.1:${port}/api/health`)).status).toBe(200)
    expect(tree.map((p) => p.command)).toContainEqual(expect.stringContaining('dist/src/main.js'))

    stop(npm)
    expect(await exitWithin(npm, STOP_TIMEOUT_MS)).toEqual({ code: 0, signal: null })
    expect(tree.filter((p) => alive(p.pid))).toEqual([])
    expect(await portIsFree(port)).toBe(true)
    expect(npm.tail()).toMatch(/"msg":"stopped"/)
  } finally {
    for (const p of [{ pid: npm.child.pid! }, ...tree]) if (alive(p.pid)) process.kill(p.pid, 'SIGKILL')
  }
}

describe('npm start', () => {
  it(
    'SIGTERM to npm (Docker, systemd): the service drains and exits 0, npm exits 0, the port is free',
    async () => {
      await startAndStop((npm) => npm.child.kill('SIGTERM'))
    },
    READY_TIMEOUT_MS + 2 * STOP_TIMEOUT_MS,
  )

  it(
    "Ctrl-C (SIGINT to npm's process group): the same clean stop",
    async () => {
      await startAndStop((npm) => process.kill(-npm.child.pid!, 'SIGINT'))
    },
    READY_TIMEOUT_MS + 2 * STOP_TIMEOUT_MS,
  )
})
