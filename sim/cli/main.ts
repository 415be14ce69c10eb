import { HELP, parseArgs } from './cli-args.js'
import { startSimulator } from '../index.js'

async function main(): Promise<void> {
  let args
  try {
    args = parseArgs(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(2)
  }
  if (args.help) {
    process.stdout.write(HELP)
    return
  }
  const sim = await startSimulator(args.options)
  for (const fault of args.faults) await sim.control.setFault(fault)
  const state = sim.control.state()
  process.stdout.write(
    `Plex simulator listening on ${sim.url} (machineIdentifier ${sim.machineIdentifier}, ${state.library.items} items, ${state.historyRows} history rows, speed ${state.speed})\n`,
  )
  let closing = false
  const shutdown = (): void => {
    if (closing) return
    closing = true
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.on('SIGINT', shutdown)
  process.on('SIGTERM', shutdown)
}

main().catch((err: unknown) => {
  process.stderr.write(`Plex simulator failed to start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
