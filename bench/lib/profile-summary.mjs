#!/usr/bin/env node
// Where a V8 .cpuprofile (node --cpu-prof) spent its time: self time grouped by
// package / node subsystem / relay file, and the top functions. Idle is left out,
// so percentages are of the time the process was on CPU. The command line
// summarises whole profiles; run.mjs only the measured window.
//   node bench/lib/profile-summary.mjs bench/results/profiles/relay-openai-paced.cpuprofile
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

function bucket ({ functionName: fn, url }) {
  if (!url) return fn.startsWith('(') ? fn : '(native)' // (garbage collector), (program), builtins
  const pkg = url.match(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//)
  if (pkg) return pkg[1]
  if (url.startsWith('node:')) return `node:${url.replace(/^node:(internal\/)?/, '').split('/')[0]}`
  const dist = url.match(/\/dist\/(.+)$/)
  return dist ? `relay ${dist[1]}` : url.replace(/^file:\/\//, '')
}

/**
 * window: [from, to] in µs of CLOCK_MONOTONIC (the profile's own clock, and
 * load.mjs's window_us), to leave out start-up, warm-up and shutdown.
 */
export function summarize (file, { top = 12, window } = {}) {
  const p = JSON.parse(readFileSync(file, 'utf8'))
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const self = new Map() // node id -> µs
  let t = p.startTime
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0
    if (window && (t < window[0] || t > window[1])) continue
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0))
  }
  const groups = new Map(); const fns = new Map()
  let busy = 0
  for (const [id, us] of self) {
    const cf = byId.get(id).callFrame
    if (cf.functionName === '(idle)' || cf.functionName === '(root)') continue
    busy += us
    const b = bucket(cf)
    groups.set(b, (groups.get(b) ?? 0) + us)
    const f = `${cf.functionName || '(anonymous)'} ${b}${cf.url ? `:${cf.lineNumber + 1}` : ''}`
    fns.set(f, (fns.get(f) ?? 0) + us)
  }
  const rank = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, pct: Math.round((us / busy) * 1000) / 10 }))
  return { busy_ms: Math.round(busy / 1000), groups: rank(groups), functions: rank(fns) }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const f of process.argv.slice(2)) {
    const s = summarize(f, { top: 20 })
    console.log(`\n${f}: ${s.busy_ms} ms on CPU`)
    for (const g of s.groups) console.log(`  ${String(g.pct).padStart(5)} %  ${g.name}`)
    console.log('  top functions (self time):')
    for (const g of s.functions) console.log(`  ${String(g.pct).padStart(5)} %  ${g.name}`)
  }
}
