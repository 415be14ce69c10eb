// The /cache page: polls the service's cache stats and its ring of samples, draws them with uPlot
// (served by the service from node_modules) and offers Clear and Warm. No build step.
'use strict'
;(() => {
  const COLORS = [
    '#4c9aff',
    '#3fb27f',
    '#d29922',
    '#e5534b',
    '#a371f7',
    '#39c5cf',
    '#f778ba',
    '#8ddb8c',
    '#ffa657',
    '#79c0ff',
    '#c9d1d9',
    '#b083f0',
  ]
  const READ_FIELDS = ['hits', 'misses', 'stale', 'coalesced']
  const $ = (id) => document.getElementById(id)

  /** Samples received so far, trimmed to the window: times (s) and per cache per field. */
  const series = { times: [], redis: [], caches: {}, windowMs: 15 * 60_000, intervalMs: 5_000, nowS: Date.now() / 1000 }
  let plots = {}
  let plotNames = ''

  async function getJson(path, init) {
    const response = await fetch(path, { headers: { accept: 'application/json' }, ...init })
    const body = await response.json().catch(() => ({}))
    if (!response.ok) throw new Error(body.detail || `${path} answered ${response.status}`)
    return body
  }

  function merge(view) {
    series.windowMs = view.window_ms
    series.intervalMs = view.interval_ms
    const before = series.times.length
    series.times.push(...view.times.map((t) => t / 1000))
    series.redis.push(...view.redis)
    for (const [name, fields] of Object.entries(view.caches)) {
      if (!series.caches[name]) {
        series.caches[name] = {}
        for (const field of Object.keys(fields)) series.caches[name][field] = new Array(before).fill(null)
      }
      for (const [field, values] of Object.entries(fields)) series.caches[name][field].push(...values)
    }
    for (const cache of Object.values(series.caches)) {
      for (const values of Object.values(cache)) while (values.length < series.times.length) values.push(null)
    }
    const cutoff = series.times.length === 0 ? 0 : series.times[series.times.length - 1] - series.windowMs / 1000
    let drop = 0
    while (drop < series.times.length && series.times[drop] < cutoff) drop++
    if (drop > 0) {
      series.times.splice(0, drop)
      series.redis.splice(0, drop)
      for (const cache of Object.values(series.caches))
        for (const values of Object.values(cache)) values.splice(0, drop)
    }
  }

  /** Per interval: the difference of a counter between two samples (null across a reset or a gap). */
  function deltas(values) {
    const out = [null]
    for (let i = 1; i < values.length; i++) {
      const a = values[i - 1]
      const b = values[i]
      out.push(a === null || b === null || b < a ? null : b - a)
    }
    return out
  }

  function perSecond(values) {
    const d = deltas(values)
    return d.map((v, i) => (v === null || i === 0 ? null : v / Math.max(0.001, series.times[i] - series.times[i - 1])))
  }

  function sumSeries(list) {
    return series.times.map((_, i) => {
      let total = null
      for (const values of list) if (values[i] !== null && values[i] !== undefined) total = (total ?? 0) + values[i]
      return total
    })
  }

  function hitRate(cache) {
    const reads = sumSeries(READ_FIELDS.map((f) => deltas(cache[f])))
    const hits = deltas(cache.hits)
    return reads.map((r, i) => (r === null || r === 0 || hits[i] === null ? null : (hits[i] / r) * 100))
  }

  /** The window ending now, by the service's clock: samples fill it from the right as they arrive. */
  function xRange() {
    const last = series.times.length === 0 ? -Infinity : series.times[series.times.length - 1]
    const to = Math.max(series.nowS, last)
    return [to - series.windowMs / 1000, to]
  }

  function plotOptions(el, seriesDefs, yLabel, yRange) {
    const width = Math.max(300, el.clientWidth)
    return {
      width,
      height: 240,
      series: [{}, ...seriesDefs.map((s) => ({ spanGaps: true, width: 1.5, points: { show: true, size: 3 }, ...s }))],
      scales: { x: { time: true, range: xRange }, y: yRange ? { range: yRange } : { auto: true } },
      axes: [
        { stroke: '#8593a3', grid: { stroke: '#26313d' }, ticks: { stroke: '#26313d' } },
        {
          stroke: '#8593a3',
          grid: { stroke: '#26313d' },
          ticks: { stroke: '#26313d' },
          label: yLabel,
          labelSize: 18,
          size: 56,
        },
      ],
      legend: { live: true },
      hooks: {
        setScale: [
          (u, key) => {
            if (key !== 'x') return
            el.dataset.xFrom = String(Math.round(u.scales.x.min))
            el.dataset.xTo = String(Math.round(u.scales.x.max))
          },
        ],
      },
    }
  }

  function draw() {
    const names = Object.keys(series.caches)
    const perCache = (fn) => names.map((name) => fn(series.caches[name]))
    const color = (i) => COLORS[i % COLORS.length]
    const specs = {
      'plot-hit-rate': {
        defs: names.map((name, i) => ({
          label: name,
          stroke: color(i),
          value: (_u, v) => (v === null ? '–' : `${v.toFixed(1)} %`),
        })),
        data: () => perCache(hitRate),
        label: '%',
        range: [0, 100],
      },
      'plot-calls': {
        defs: [
          { label: 'client reads', stroke: '#4c9aff', fill: 'rgba(76,154,255,0.08)' },
          { label: 'loader calls', stroke: '#e5534b' },
          { label: 'reads without a call', stroke: '#3fb27f' },
        ],
        data: () => [
          sumSeries(perCache((c) => sumSeries(READ_FIELDS.map((f) => perSecond(c[f]))))),
          sumSeries(perCache((c) => perSecond(c.loads))),
          sumSeries(perCache((c) => perSecond(c.saved))),
        ],
        label: '/s',
      },
      'plot-load': {
        defs: names.map((name, i) => ({ label: name, stroke: color(i) })),
        data: () => perCache((c) => c.load_p95_ms),
        label: 'ms',
      },
      'plot-stale': {
        defs: names.map((name, i) => ({ label: name, stroke: color(i) })),
        data: () => perCache((c) => perSecond(c.stale).map((v) => (v === null ? null : v * 60))),
        label: '/min',
      },
    }
    const key = names.join(',')
    for (const [id, spec] of Object.entries(specs)) {
      const el = $(id)
      const data = [series.times.slice(), ...spec.data()]
      if (!plots[id] || plotNames !== key) {
        plots[id]?.destroy()
        el.textContent = ''
        plots[id] = new uPlot(plotOptions(el, spec.defs, spec.label, spec.range), data, el)
      } else {
        plots[id].setData(data)
      }
      const points = data
        .slice(1)
        .reduce((n, values) => n + values.filter((v) => v !== null && v !== undefined).length, 0)
      el.dataset.points = String(points)
      const [from, to] = xRange()
      plots[id].setScale('x', { min: from, max: to })
    }
    plotNames = key
  }

  const fmt = {
    int: (v) => (v === null || v === undefined ? '–' : Math.round(v).toLocaleString('en')),
    ms: (v) => (v === null || v === undefined ? '–' : v < 10 ? v.toFixed(1) : Math.round(v).toString()),
    bytes: (v) =>
      v < 1024 ? `${v} B` : v < 1048576 ? `${(v / 1024).toFixed(1)} KiB` : `${(v / 1048576).toFixed(1)} MiB`,
    seconds: (v) =>
      v === null || v === undefined ? '–' : v < 120 ? `${v.toFixed(v < 10 ? 1 : 0)} s` : `${(v / 60).toFixed(1)} min`,
  }

  function latest(name, field) {
    const values = series.caches[name]?.[field]
    return values && values.length > 0 ? values[values.length - 1] : null
  }

  function cell(text, className) {
    const td = document.createElement('td')
    td.textContent = text
    if (className) td.className = className
    return td
  }

  function renderTable(stats) {
    const body = $('caches').querySelector('tbody')
    const names = Object.keys(series.caches)
    const rows = stats.caches.map((c) => {
      const tr = document.createElement('tr')
      tr.dataset.cache = c.name
      const nameCell = cell(c.name)
      const swatch = document.createElement('span')
      swatch.className = 'swatch'
      swatch.style.background = COLORS[Math.max(0, names.indexOf(c.name)) % COLORS.length]
      nameCell.prepend(swatch)
      const health = cell(c.health ?? '–', `health ${c.health ?? ''}`)
      health.title = c.health_reason ?? ''
      tr.append(
        nameCell,
        health,
        cell(c.total_requests === 0 ? '–' : c.hit_rate),
        cell(fmt.int(c.total_requests)),
        cell(fmt.int(latest(c.name, 'saved'))),
        cell(fmt.int(c.entries), 'entries'),
        cell(fmt.bytes(c.bytes)),
        cell(`${fmt.seconds(c.cache_age_seconds)} / ${fmt.seconds(c.ttl_seconds)}`),
        cell(`${fmt.int(c.loads)}${c.errors > 0 ? ` (${c.errors} failed)` : ''}`, 'loads'),
        cell(`${fmt.ms(c.load_p50_ms)} / ${fmt.ms(c.load_p95_ms)} ms`),
        cell(fmt.int(c.stale_serves)),
        cell(c.last_error ?? '', 'error'),
      )
      tr.lastChild.title = c.last_error ?? ''
      return tr
    })
    body.replaceChildren(...rows)
  }

  function renderTotals(stats) {
    const sum = (f) => stats.caches.reduce((n, c) => n + (c[f] ?? 0), 0)
    const reads = sum('total_requests')
    const saved = Object.keys(series.caches).reduce((n, name) => n + (latest(name, 'saved') ?? 0), 0)
    const items = [
      ['hit rate', reads === 0 ? '–' : `${((sum('hits') / reads) * 100).toFixed(1)} %`],
      ['reads', fmt.int(reads)],
      ['Plex calls saved', fmt.int(saved)],
      ['loads', fmt.int(sum('loads'))],
      ['stale serves', fmt.int(sum('stale_serves'))],
      ['memory', fmt.bytes(sum('bytes'))],
    ]
    $('totals').replaceChildren(
      ...items.map(([label, value]) => {
        const div = document.createElement('div')
        div.className = 'total'
        div.dataset.total = label
        div.innerHTML = '<div class="value"></div><div class="label"></div>'
        div.firstChild.textContent = value
        div.lastChild.textContent = label
        return div
      }),
    )
    const redis = stats.redis
    const badge = $('redis')
    badge.className = 'badge ' + (!redis.enabled ? '' : redis.connected && redis.state === 'closed' ? 'good' : 'bad')
    badge.textContent = !redis.enabled
      ? 'Redis off (memory only)'
      : `Redis ${redis.state === 'closed' && redis.connected ? 'in use' : redis.state}${redis.cluster ? ` · ${redis.cluster.instances} instance(s)` : ''}`
    $('interval').textContent = String(series.intervalMs / 1000)
  }

  // The PMS mirror (PLEX_PROXY_PORT), shown only when it is on; its caches are rows of the table above.
  function renderMirror(mirror) {
    $('mirror').hidden = !mirror.enabled
    if (!mirror.enabled) return
    $('mirror-summary').textContent =
      `on port ${mirror.port} · ${mirror.clients.websocket + mirror.clients.sse} notification client(s), ${fmt.int(mirror.frames)} frames fanned out`
    const rows = mirror.patterns.map((p) => {
      const tr = document.createElement('tr')
      tr.append(
        cell(p.pattern),
        cell(fmt.int(p.hit)),
        cell(fmt.int(p.miss + p.coalesced)),
        cell(fmt.int(p.stale)),
        cell(fmt.int(p.pms_error)),
        cell(fmt.int(p.error)),
        cell(fmt.int(p.pass)),
        cell(fmt.int(p.fan_out)),
      )
      return tr
    })
    $('mirror-patterns')
      .querySelector('tbody')
      .replaceChildren(...rows)
  }

  async function refresh() {
    const after = series.times.length === 0 ? 0 : series.times[series.times.length - 1] * 1000
    const [stats, view, mirror] = await Promise.all([
      getJson('/api/plex/cache/stats'),
      getJson(`/api/plex/cache/history?after=${after}`),
      getJson('/api/plex/mirror'),
    ])
    const serviceNow = Date.parse(stats.timestamp)
    if (Number.isFinite(serviceNow)) series.nowS = serviceNow / 1000
    merge(view)
    draw()
    renderTotals(stats)
    renderTable(stats)
    renderMirror(mirror)
  }

  function say(text, bad) {
    const el = $('message')
    el.textContent = text
    el.className = bad ? 'bad' : ''
  }

  async function action(button, path, verb) {
    button.disabled = true
    say(`${verb}…`)
    try {
      const answer = await getJson(path, { method: 'POST' })
      say(answer.message || `${verb} done`, answer.success === false)
      await refresh()
    } catch (error) {
      say(`${verb} failed: ${error.message}`, true)
    } finally {
      button.disabled = false
    }
  }

  $('warm').addEventListener('click', () => action($('warm'), '/api/plex/cache/warm', 'Warming'))
  $('clear').addEventListener('click', () => action($('clear'), '/api/plex/cache/clear', 'Clearing'))
  window.addEventListener('resize', () => {
    for (const [id, plot] of Object.entries(plots))
      plot.setSize({ width: Math.max(300, $(id).clientWidth), height: 240 })
  })

  async function loop() {
    try {
      await refresh()
    } catch (error) {
      say(`Could not refresh: ${error.message}`, true)
    }
    setTimeout(loop, Math.max(1000, series.intervalMs))
  }
  void loop()
})()
