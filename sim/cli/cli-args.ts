import { validateFault } from '../http/faults.js'
import type { Fault, SimulatorOptions } from '../types.js'

export interface CliArgs {
  options: SimulatorOptions
  faults: Fault[]
  help: boolean
}

export const HELP = `Plex Media Server simulator

Usage: npm run sim -- [flags]

  --port N            port to listen on (default 32400; 0 = random free port)
  --host H            address to bind (default 127.0.0.1)
  --token T           the accepted X-Plex-Token (default sim-token)
  --seed N            generation seed; same seed, same bytes (default 1)
  --items N           live library items of every type, up to 100000 (default 500)
  --history-rows N    watch-history rows, up to 1000000 (default items*2)
  --shared-users N    users the server is shared with, up to 1000 (default 3 to 10, from the seed)
  --speed X           live clock speed; 0 freezes it (default 1)
  --no-live           no sessions/activities/media start or stop by themselves
  --latency MS        fixed latency on every PMS answer (default 0)
  --server-name NAME  friendlyName (default "Komandorr Sim")
  --start-time T      unix seconds the clock starts at, or "now" (default 1767225600)
  --fault SPEC        a fault, repeatable: [ENDPOINT:]key[=value][,key[=value]...]
                        keys: latency=MS, per-item=MS, error=RATE (0..1),
                        status=401|500|503, hang, drop, outage, duration=MS
                        e.g. --fault '/status/sessions:latency=5000'
                             --fault '*:error=0.2' --fault 'outage,duration=30000'
  --log               one line per request on stdout
  --help              this text

Control API (no token): GET /__simulator/state, /__simulator/requests; see docs/simulator.md.
`

const FAULT_KEYS = /^[a-z-]+(=[^,]*)?(,[a-z-]+(=[^,]*)?)*$/i

/** `[ENDPOINT:]key[=value],...`; endpoints contain ':' themselves, so split at the last one. */
export function parseFaultSpec(spec: string): Fault {
  const cut = spec.lastIndexOf(':')
  const head = cut >= 0 ? spec.slice(0, cut) : ''
  const tail = cut >= 0 ? spec.slice(cut + 1) : spec
  if (!FAULT_KEYS.test(tail)) throw new Error(`--fault "${spec}": expected [ENDPOINT:]key[=value],... (see --help)`)
  const fault: Record<string, unknown> = { endpoint: head === '' ? '*' : head }
  for (const part of tail.split(',')) {
    const [key, value] = part.split('=') as [string, string | undefined]
    const num = (): number => {
      const n = Number(value)
      if (value === undefined || value === '' || !Number.isFinite(n))
        throw new Error(`--fault "${spec}": ${key} needs a number, got ${JSON.stringify(value)}`)
      return n
    }
    switch (key) {
      case 'latency':
        fault.latencyMs = num()
        break
      case 'per-item':
        fault.latencyPerItemMs = num()
        break
      case 'error':
        fault.errorRate = num()
        break
      case 'status':
        fault.status = num()
        break
      case 'duration':
        fault.durationMs = num()
        break
      case 'hang':
      case 'drop':
      case 'outage':
        fault.mode = key
        break
      default:
        throw new Error(
          `--fault "${spec}": unknown key "${key}" (latency, per-item, error, status, hang, drop, outage, duration)`,
        )
    }
  }
  return validateFault(fault)
}

export function parseArgs(
  argv: readonly string[],
  nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
): CliArgs {
  const options: SimulatorOptions = {}
  const faults: Fault[] = []
  let help = false
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!
    const value = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${flag} needs a value (see --help)`)
      return v
    }
    const number = (): number => {
      const raw = value()
      const n = Number(raw)
      if (raw.trim() === '' || !Number.isFinite(n)) throw new Error(`${flag} needs a number, got "${raw}"`)
      return n
    }
    switch (flag) {
      case '--port':
        options.port = number()
        break
      case '--host':
        options.host = value()
        break
      case '--token':
        options.token = value()
        break
      case '--seed':
        options.seed = number()
        break
      case '--items':
        options.items = number()
        break
      case '--history-rows':
        options.historyRows = number()
        break
      case '--shared-users':
        options.sharedUsers = number()
        break
      case '--speed':
        options.speed = number()
        break
      case '--no-live':
        options.liveSessions = false
        break
      case '--latency':
        options.latencyMs = number()
        break
      case '--server-name':
        options.serverName = value()
        break
      case '--start-time': {
        const raw = value()
        options.startTime = raw === 'now' ? nowSeconds() : Number(raw)
        if (!Number.isInteger(options.startTime))
          throw new Error(`--start-time needs unix seconds or "now", got "${raw}"`)
        break
      }
      case '--fault':
        faults.push(parseFaultSpec(value()))
        break
      case '--log':
        options.log = true
        break
      case '--help':
      case '-h':
        help = true
        break
      default:
        throw new Error(`unknown flag "${flag}" (see --help)`)
    }
  }
  return { options, faults, help }
}
