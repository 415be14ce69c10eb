// Simulator capacity: requests/second it answers for /status/sessions and 1,000-row
// history pages (autocannon against the simulator in a child process, so the load
// generator does not share its event loop), and generation time of the largest library.
import autocannon from 'autocannon'
import { startSimulator } from '../sim/index.js'
import { startChild, type RunningChild } from './support/child-process.js'

interface Scenario {
  name: string
  path: string
  headers: Record<string, string>
  /** Rotate X-Plex-Container-Start over this many pages so every request renders anew. */
  rotatePages?: number
}

interface Row {
  scenario: string
  requestsPerSec: number
  p50Ms: number
  p99Ms: number
  non2xx: number
  errors: number
}

const TOKEN = 'bench-token'

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name)
  if (i < 0) return fallback
  const n = Number(args[i + 1])
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} needs a positive number, got "${args[i + 1]}"`)
  return n
}

async function startSimulatorProcess(items: number, historyRows: number): Promise<RunningChild> {
  return startChild({
    script: 'sim/cli/main.ts',
    args: ['--port', '0', '--token', TOKEN, '--items', String(items), '--history-rows', String(historyRows)],
    ready: /listening on (http:\/\/\S+)/,
  })
}

async function load(url: string, s: Scenario, seconds: number, connections: number): Promise<Row> {
  let n = 0
  const result = await autocannon({
    url: url + s.path,
    connections,
    duration: seconds,
    headers: { 'X-Plex-Token': TOKEN, ...s.headers },
    ...(s.rotatePages
      ? {
          requests: [
            {
              setupRequest: (req: autocannon.Request) => {
                n = (n + 1) % s.rotatePages!
                return { ...req, headers: { ...req.headers, 'X-Plex-Container-Start': String(n * 1000) } }
              },
            },
          ],
        }
      : {}),
  })
  return {
    scenario: s.name,
    requestsPerSec: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  }
}

export async function main(args: string[]): Promise<void> {
  const seconds = flag(args, '--duration', 5)
  const connections = flag(args, '--connections', 50)
  const json = args.includes('--json')

  const genStart = performance.now()
  const big = await startSimulator({ port: 0, speed: 0, items: 100_000, historyRows: 1_000_000 })
  const generationMs = Math.round(performance.now() - genStart)
  const rssMb = Math.round(process.memoryUsage().rss / 1e6)
  await big.close()

  const simulator = await startSimulatorProcess(100_000, 1_000_000)
  const url = simulator.readyMatch
  const page = { 'X-Plex-Container-Start': '0', 'X-Plex-Container-Size': '1000' }
  const scenarios: Scenario[] = [
    { name: '/status/sessions (JSON)', path: '/status/sessions', headers: { Accept: 'application/json' } },
    { name: '/status/sessions (XML)', path: '/status/sessions', headers: {} },
    {
      name: 'history 1,000 rows, same page (JSON)',
      path: '/status/sessions/history/all?sort=viewedAt:desc',
      headers: { Accept: 'application/json', ...page },
    },
    {
      name: 'history 1,000 rows, rotating pages (JSON)',
      path: '/status/sessions/history/all?sort=viewedAt:desc',
      headers: { Accept: 'application/json', ...page },
      rotatePages: 900,
    },
  ]
  const rows: Row[] = []
  try {
    for (const s of scenarios) {
      await load(url, s, 1, connections) // warm-up: JIT and caches, not recorded
      rows.push(await load(url, s, seconds, connections))
    }
  } finally {
    await simulator.stop()
  }

  console.log(
    `simulator bench: ${connections} connections, ${seconds} s per scenario, library 100,000 items / 1,000,000 history rows`,
  )
  console.table(rows)
  console.log(`generation of 100,000 items + 1,000,000 history rows: ${generationMs} ms (rss after: ${rssMb} MB)`)
  if (json) console.log(JSON.stringify({ bench: 'sim', connections, seconds, generationMs, rssMb, scenarios: rows }))
}
