import { Worker, type WorkerOptions } from 'node:worker_threads'

// A dev dependency, reached only when a worker runs from TypeScript sources (tests, `npm run dev`);
// named apart so that the built code holds no import of it.
const TSX_API = 'tsx/esm/api'

/**
 * A worker thread running the module `name` beside `base` (the caller's `import.meta.url`):
 * `<name>.ts` from the sources, where tsx's API loads it (on Node 20 a worker's `--import tsx`
 * does not reach its ESM loader), else the built `<name>.js`.
 */
export function startWorker(base: string, name: string, options: WorkerOptions = {}): Worker {
  if (!base.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, base), options)
  const source = new URL(`./${name}.ts`, base).href
  // A worker's eval code resolves bare names from the working directory, which need not be the
  // checkout's (the benchmarks run the service elsewhere): resolved here where it can be
  // (vitest has no import.meta.resolve, and runs in the checkout).
  const api = typeof import.meta.resolve === 'function' ? import.meta.resolve(TSX_API) : TSX_API
  return new Worker(
    `import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(source)}) })`,
    { ...options, eval: true },
  )
}
