// Markdown tables from run.mjs's results, ratios to the direct target of the
// same run, the relay's figures over the floor-node target's, the new paths'
// over their baselines (BASELINES), and the issue's targets checked against them.

// nginx per-frame CPU measured on this machine by the shared peer bench
// (../shared/bench, 2026-11-21): used when nginx is not in the run.
export const NGINX_REF_US = { paced: 13, idle: 18 }
const GOALS = { cpuVsNginx: 1.5, rssKb: 20, openStreams: 10_000, addedP50Us: 300, contentVsOpenai: 1.3, seqAddedP50Us: 300, redisVsMemory: 1.5, replicaReaders: 3000 }

// Scenarios whose CPU is quoted per stream (all of a stream's cost, connection to close), not per frame.
const PER_STREAM = new Set(['open10k', 'setup'])

const f = (x, d = 0) => (x == null || Number.isNaN(x) ? '—' : Number(x).toFixed(d))
const ms = (us, d = 2) => (us == null ? '—' : (us / 1000).toFixed(d))
const pctOf = (x) => (x == null ? '—' : f(x * 100))
// The same CPU split by thread: main thread user / main thread kernel / all other threads (GC, JIT).
const split = (p) => (p?.threads_us ? `${f(p.threads_us.main_user, 1)} / ${f(p.threads_us.main_sys, 1)} / ${f(p.threads_us.other, 1)}` : '—')

function streamTable (rows, d) {
  let md = '| target | ok/fail | frames/s | ×direct | lat p50 ms | +p50 vs direct ms | p99 ms | TTFB p50/p99 ms | CPU µs/frame | kernel share | main user / main kernel / other threads µs | CPU % | RSS base→peak MB | RSS KB/open stream | loadgen/mock CPU % |\n'
  md += '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
  for (const r of rows) {
    if (r.error) { md += `| ${r.target} | error: ${r.error.slice(0, 100)} |||||||||||||\n`; continue }
    const p = r.proxy
    md += `| ${r.target} | ${r.ok}/${r.failed + r.not_started} | ${f(r.frames_per_s)} | ${d ? f(r.frames_per_s / d.frames_per_s, 2) : '—'} ` +
      `| ${ms(r.lat_us.p50)} | ${d && r !== d ? ms(r.lat_us.p50 - d.lat_us.p50) : '—'} | ${ms(r.lat_us.p99)} | ${f(r.ttfb_ms.p50, 1)}/${f(r.ttfb_ms.p99, 1)} ` +
      `| ${p ? f(p.cpu_us_per_frame, 1) : '—'} | ${p?.cpu_sys_share == null ? '—' : `${pctOf(p.cpu_sys_share)} %`} | ${split(p)} | ${p ? pctOf(p.cpu_util) : '—'} | ${p ? `${f(p.rss_base_mb)}→${f(p.rss_peak_mb)}` : '—'} ` +
      `| ${p ? f(p.rss_kb_per_open_stream, 1) : '—'} | ${pctOf(r.loadgen_cpu_util)}/${pctOf(r.mock_cpu_util)} |\n`
  }
  return md
}

/** Per-stream figures (open10k, setup); RSS per open stream only where all streams are open at once. */
function openTable (rows, allOpen) {
  let md = '| target | ok/fail | open at once | errors | TTFB p50/p99 ms | lat p99 ms | CPU µs/stream | RSS base→peak MB | RSS KB/open stream |\n'
  md += '|---|---|---|---|---|---|---|---|---|\n'
  for (const r of rows) {
    if (r.error) { md += `| ${r.target} | error: ${r.error.slice(0, 100)} ||||||||\n`; continue }
    const p = r.proxy
    md += `| ${r.target} | ${r.ok}/${r.failed + r.not_started} | ${r.open_peak} | ${Object.keys(r.errors).length ? JSON.stringify(r.errors).slice(0, 80) : 'none'} ` +
      `| ${f(r.ttfb_ms.p50, 1)}/${f(r.ttfb_ms.p99, 1)} | ${ms(r.lat_us.p99)} | ${p ? f(p.cpu_us_per_request) : '—'} ` +
      `| ${p ? `${f(p.rss_base_mb)}→${f(p.rss_peak_mb)}` : '—'} | ${p && allOpen ? f(p.rss_kb_per_open_stream, 1) : '—'} |\n`
  }
  return md
}

function requestTable (rows, d) {
  let md = '| target | ok/fail | req/s | lat p50 µs | +p50 vs direct µs | p90 µs | p99 µs | CPU µs/req | kernel share | main user / main kernel / other threads µs | CPU % | RSS MB | conns |\n'
  md += '|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
  for (const r of rows) {
    if (r.error) { md += `| ${r.target} | error: ${r.error.slice(0, 100)} |||||||||||\n`; continue }
    const p = r.proxy
    md += `| ${r.target} | ${r.ok}/${r.failed + r.not_started} | ${f(r.requests_per_s)} | ${f(r.lat_us.p50)} | ${d && r !== d ? f(r.lat_us.p50 - d.lat_us.p50) : '—'} ` +
      `| ${f(r.lat_us.p90)} | ${f(r.lat_us.p99)} | ${p ? f(p.cpu_us_per_request, 1) : '—'} | ${p?.cpu_sys_share == null ? '—' : `${pctOf(p.cpu_sys_share)} %`} | ${split(p)} | ${p ? pctOf(p.cpu_util) : '—'} | ${p ? f(p.rss_peak_mb) : '—'} | ${r.connections} |\n`
  }
  return md
}

// The EventSource flow's targets (POST /v1/streams, then a GET read to the end), beside the
// memory store's and the plain POST's (relay-content: the same events without the log).
const ES_MEMORY = 'relay-es-memory'
const PLAIN = 'relay-content'

function streamLogTable (rows, d) {
  const es = rows.filter((r) => !r.error && r.mode === 'eventsource')
  if (!es.length) return ''
  const cpu = (t) => rows.find((r) => r.target === t && !r.error)?.proxy?.cpu_us_per_frame
  const ratio = (a, b) => (a == null || b == null || !(b > 0) ? '—' : `${f(a / b, 2)}×`)
  const plus = (a, b) => (a == null || b == null ? '—' : ms(a - b))
  const readers = es[0].readers ?? 1
  let md = `\nThrough the stream log (EventSource flow: POST /v1/streams, then ${readers === 1 ? 'a GET' : `${readers} GETs`} of its url; with 2 replicas every GET on the one that did not produce). ` +
    'Redis KB per open stream: used_memory\'s growth / streams open, at the fullest sample while ≥ 95 % of the most were open; only where all streams are open at once (idle):\n\n'
  md += '| target | replicas | ok/fail | relay CPU µs/frame | ÷ es-memory | ÷ plain POST (relay-content) | Redis CPU µs/frame | relay + Redis µs/frame | +p50 / +p99 vs direct ms | +p50 / +p99 after the first frame ms | POST→201 p50/p99 ms | relay / Redis CPU % | waiting for a CPU % | Redis conns per replica: before → min–max during | Redis KB per open stream (at readers open) |\n'
  md += '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
  for (const r of es) {
    const c = r.proxy?.cpu_us_per_frame
    const x = r.redis
    const conns = x?.conns_per_replica
    md += `| ${r.target} | ${r.replicas ?? 1} | ${r.ok}/${r.failed + r.not_started} | ${f(c, 1)} | ${r.target === ES_MEMORY ? '—' : ratio(c, cpu(ES_MEMORY))} | ${ratio(c, cpu(PLAIN))} ` +
      `| ${x ? f(x.cpu_us_per_frame, 1) : '—'} | ${x && c != null ? f(c + x.cpu_us_per_frame, 1) : '—'} ` +
      `| ${d ? `${plus(r.lat_us.p50, d.lat_us.p50)} / ${plus(r.lat_us.p99, d.lat_us.p99)}` : '—'} ` +
      `| ${d?.lat_live_us && r.lat_live_us ? `${plus(r.lat_live_us.p50, d.lat_live_us.p50)} / ${plus(r.lat_live_us.p99, d.lat_live_us.p99)}` : '—'} ` +
      `| ${f(r.post_ms?.p50, 1)}/${f(r.post_ms?.p99, 1)} ` +
      `| ${pctOf(r.proxy?.cpu_util)} / ${pctOf(x?.cpu_util)} | ${pctOf(r.proxy?.wait_util)} / ${pctOf(x?.wait_util)} ` +
      `| ${conns ? `${f(conns.base)} → ${f(conns.min)}–${f(conns.max)}` : '—'} ` +
      `| ${x?.bytes_per_open_stream == null || r.c < r.s ? '—' : `${f(x.bytes_per_open_stream / 1024, 1)} (${x.readers_at_peak})`} |\n`
  }
  return md
}

function describe (name, sc) {
  if (sc.mode === 'request') return `${sc.s} stream:false requests one at a time on one keep-alive connection (after ${sc.warmup} warm-up), ${sc.n} tokens each`
  return `C=${sc.c} concurrent, S=${sc.s} streams, ${sc.n} frames each, ${sc.i ? `a frame every ${sc.i} ms` : 'back-to-back'}${sc.ramp ? `, starts spread over ${sc.ramp} ms` : ''}`
}

/** The issue's targets, each with what this run measured. */
export function goals (results) {
  const get = (sc, t) => results.find((r) => r.scenario === sc && r.target === t && !r.error)
  const cpu = (sc, t) => get(sc, t)?.proxy?.cpu_us_per_frame
  const rows = []
  const add = (goal, measured, ok, why) => rows.push({ goal, measured, verdict: why ?? (ok == null ? '— not measured' : ok ? 'yes' : '**no**') })
  for (const sc of ['paced', 'idle']) {
    const n = cpu(sc, 'nginx')
    const ref = n ?? NGINX_REF_US[sc]
    for (const t of ['relay-openai', 'relay-content']) {
      const c = cpu(sc, t)
      add(`${sc}: ${t} CPU/frame ≤ ${GOALS.cpuVsNginx}× nginx`, c == null ? '—' : `${f(c, 1)} µs = ${f(c / ref, 2)}× nginx ${f(ref, 1)} µs${n == null ? ' (reference)' : ''}`,
        c == null ? null : c / ref <= GOALS.cpuVsNginx)
    }
  }
  for (const sc of ['idle', 'open10k']) {
    for (const t of ['relay-openai', 'relay-content']) {
      const k = get(sc, t)?.proxy?.rss_kb_per_open_stream
      add(`${sc}: ${t} RSS ≤ ${GOALS.rssKb} KB per open stream`, k == null ? '—' : `${f(k, 1)} KB`, k == null ? null : k <= GOALS.rssKb)
    }
  }
  for (const t of ['relay-openai', 'relay-content']) {
    const r = get('open10k', t)
    add(`open10k: ${t} holds ${GOALS.openStreams.toLocaleString('en')} open streams, no errors`,
      r ? `${r.open_peak} open at once, ${r.ok}/${r.failed + r.not_started} ok/fail${r.c < GOALS.openStreams ? ` (run at ${r.c}: ${r.capped})` : ''}` : '—',
      r ? r.open_peak >= GOALS.openStreams && r.failed + r.not_started === 0 : null,
      // a clean run that was only smaller than asked neither meets nor misses the target
      r && r.c < GOALS.openStreams && r.open_peak === r.c && r.failed + r.not_started === 0 ? `not shown at full size (${r.capped})` : undefined)
  }
  const dPaced = get('paced', 'direct')
  for (const t of ['relay-openai', 'relay-content']) {
    const r = get('paced', t)
    const a = r && dPaced ? r.lat_us.p50 - dPaced.lat_us.p50 : null
    add(`paced: ${t} added p50 delivery latency ≤ ${GOALS.addedP50Us / 1000} ms`, a == null ? '—' : `+${ms(a)} ms`, a == null ? null : a <= GOALS.addedP50Us)
  }
  for (const sc of ['throughput', 'paced', 'idle']) {
    const [c, o] = [cpu(sc, 'relay-content'), cpu(sc, 'relay-openai')]
    add(`${sc}: content CPU/frame ≤ ${GOALS.contentVsOpenai}× passthrough`, c == null || o == null ? '—' : `${f(c, 1)} / ${f(o, 1)} µs = ${f(c / o, 2)}×`,
      c == null || o == null ? null : c / o <= GOALS.contentVsOpenai)
  }
  const [s, sd] = [get('sequential', 'relay-openai'), get('sequential', 'direct')]
  const a = s && sd ? s.lat_us.p50 - sd.lat_us.p50 : null
  add(`sequential: non-streamed request overhead p50 ≤ ${GOALS.seqAddedP50Us / 1000} ms`, a == null ? '—' : `+${ms(a, 3)} ms`, a == null ? null : a <= GOALS.seqAddedP50Us)
  // The replicas issue's (SPEC §9.1, §11): the stream log through Redis beside the memory store.
  for (const sc of ['paced', 'idle']) {
    const [r, mem] = [cpu(sc, 'relay-es-redis'), cpu(sc, ES_MEMORY)]
    const redisCpu = get(sc, 'relay-es-redis')?.redis?.cpu_us_per_frame
    add(`${sc}: relay CPU/frame through Redis ≤ ${GOALS.redisVsMemory}× the memory store's`,
      r == null || mem == null ? '—' : `${f(r, 1)} / ${f(mem, 1)} µs = ${f(r / mem, 2)}× (Redis itself: ${f(redisCpu, 1)} µs/frame more)`,
      r == null || mem == null ? null : r / mem <= GOALS.redisVsMemory)
  }
  for (const t of ['relay-es-redis', 'relay-es-redis-2x']) {
    const r = get('idle', t)
    const c = r?.redis?.conns_per_replica
    add(`idle: ${t} Redis connections per replica constant, not per reader`,
      c ? `${f(c.base)} before the load, ${f(c.min)}–${f(c.max)} while it ran, ${f(c.at_peak_open)} with ${r.redis.readers_at_peak} readers open` : '—',
      c ? c.min === c.base && c.max === c.base && r.redis.readers_at_peak > c.base : null)
  }
  const two = get('idle', 'relay-es-redis-2x')
  const asked = two ? two.c * (two.readers ?? 1) : 0 // readers meant to be open at once
  const full = asked >= GOALS.replicaReaders
  add(`idle: ${GOALS.replicaReaders.toLocaleString('en')} readers across two replicas sharing Redis (GET on the other replica), no errors`,
    two ? `${two.open_peak} open at once, ${two.ok}/${two.failed + two.not_started} ok/fail${full ? '' : ` (run at ${asked}: ${two.capped})`}` : '—',
    two ? two.open_peak >= GOALS.replicaReaders && two.failed + two.not_started === 0 : null,
    two && !full && two.open_peak === asked && two.failed + two.not_started === 0 ? `not shown at full size (${two.capped})` : undefined)
  return rows
}

// What the relay pays beyond the floor (bench/targets/floor-node.mjs: node:http +
// undici dispatch, chunks written as they come) for the same work in the same run.
const FLOOR = 'floor-node'
const OVER_FLOOR = ['relay-openai', 'relay-content', 'floor-fastify', 'fastify-http-proxy']

/**
 * Per scenario, each of OVER_FLOOR's figures beside floor-node's: CPU (per frame,
 * per stream in open10k, per request in sequential) and RSS per open stream as
 * ratios, latency p50 as a difference (a ratio of latencies means little when
 * both are mostly the mock's and the load generator's).
 */
export function floorRatios (results) {
  const out = []
  const ok = (sc, t) => results.find((r) => r.scenario === sc && r.target === t && !r.error && r.proxy)
  const ratio = (a, b) => (a == null || b == null || !(b > 0) ? null : Math.round((a / b) * 100) / 100)
  for (const sc of [...new Set(results.map((r) => r.scenario))]) {
    const fl = ok(sc, FLOOR)
    if (!fl) continue
    for (const t of OVER_FLOOR) {
      const r = ok(sc, t)
      if (!r) continue
      const cpuKey = r.mode === 'request' || PER_STREAM.has(sc) ? 'cpu_us_per_request' : 'cpu_us_per_frame'
      out.push({
        scenario: sc,
        target: t,
        cpu_unit: r.mode === 'request' ? 'µs/req' : PER_STREAM.has(sc) ? 'µs/stream' : 'µs/frame',
        cpu: r.proxy[cpuKey],
        cpu_floor: fl.proxy[cpuKey],
        cpu_ratio: ratio(r.proxy[cpuKey], fl.proxy[cpuKey]),
        // Only where all streams are open at once: elsewhere it is the heap's growth between GCs.
        rss_kb: sc === 'setup' ? null : r.proxy.rss_kb_per_open_stream,
        rss_kb_floor: fl.proxy.rss_kb_per_open_stream,
        rss_ratio: sc === 'setup' ? null : ratio(r.proxy.rss_kb_per_open_stream, fl.proxy.rss_kb_per_open_stream),
        p50_added_us: r.lat_us.p50 == null || fl.lat_us.p50 == null ? null : Math.round((r.lat_us.p50 - fl.lat_us.p50) * 10) / 10,
      })
    }
  }
  return out
}

function floorLines (rows) {
  if (!rows.length) return ''
  const x = (v) => (v == null ? '—' : `${f(v, 2)}×`)
  return `\n${rows.map((r) => `- ${r.target} ÷ ${FLOOR}: CPU ${r.cpu_unit} ${x(r.cpu_ratio)} (${f(r.cpu, 1)} / ${f(r.cpu_floor, 1)})` +
    (r.rss_kb == null ? '' : `, RSS/open stream ${x(r.rss_ratio)} (${f(r.rss_kb, 1)} / ${f(r.rss_kb_floor, 1)} KB)`) +
    `, p50 ${r.p50_added_us == null ? '—' : r.cpu_unit === 'µs/req' ? `${r.p50_added_us >= 0 ? '+' : ''}${f(r.p50_added_us)} µs` : `${r.p50_added_us >= 0 ? '+' : ''}${ms(r.p50_added_us)} ms`} over ${FLOOR}`).join('\n')}\n`
}

// The new paths (issue 12), each over its natural baseline in the same run: the same
// stream with reasoning and a tool call over the plain content one, the Responses API
// (passed through, or told from a chat stream) over chat passthrough, and 2 workers over 1.
export const BASELINES = [
  { target: 'relay-content-rt', base: 'relay-content' },
  { target: 'relay-responses', base: 'relay-openai' },
  { target: 'relay-responses-facade', base: 'relay-openai' },
  { target: 'relay-openai-w2', base: 'relay-openai' },
]

/**
 * Per scenario, each BASELINES target beside its base: CPU per frame and RSS per open stream
 * as ratios, p50 latency as a difference, TTFB p50/p99 (for relay-openai-w2 in idle: the
 * 3,000-stream burst on 2 workers against 1), frames/s as a ratio; Redis's CPU where the
 * target used it (the workers' shared limits).
 */
export function baselineRatios (results) {
  const out = []
  const ok = (sc, t) => results.find((r) => r.scenario === sc && r.target === t && !r.error && r.proxy)
  const ratio = (a, b) => (a == null || b == null || !(b > 0) ? null : Math.round((a / b) * 100) / 100)
  for (const sc of [...new Set(results.map((r) => r.scenario))]) {
    for (const { target, base } of BASELINES) {
      const [r, b] = [ok(sc, target), ok(sc, base)]
      if (!r || !b) continue
      out.push({
        scenario: sc,
        target,
        base,
        cpu: r.proxy.cpu_us_per_frame,
        cpu_base: b.proxy.cpu_us_per_frame,
        cpu_ratio: ratio(r.proxy.cpu_us_per_frame, b.proxy.cpu_us_per_frame),
        rss_kb: r.proxy.rss_kb_per_open_stream,
        rss_kb_base: b.proxy.rss_kb_per_open_stream,
        rss_ratio: ratio(r.proxy.rss_kb_per_open_stream, b.proxy.rss_kb_per_open_stream),
        p50_added_us: r.lat_us.p50 == null || b.lat_us.p50 == null ? null : Math.round((r.lat_us.p50 - b.lat_us.p50) * 10) / 10,
        ttfb_ms: r.ttfb_ms,
        ttfb_ms_base: b.ttfb_ms,
        ttfb_p99_ratio: ratio(r.ttfb_ms.p99, b.ttfb_ms.p99),
        frames_per_s_ratio: ratio(r.frames_per_s, b.frames_per_s),
        processes: r.proxy.pids.length,
        cpu_s_by_pid: r.proxy.cpu_s_by_pid ?? null,
        redis_cpu_us_per_frame: r.redis?.cpu_us_per_frame ?? null,
      })
    }
  }
  return out
}

function baselineLines (rows) {
  if (!rows.length) return ''
  const x = (v) => (v == null ? '—' : `${f(v, 2)}×`)
  const t = (v) => `${f(v.p50, 1)}/${f(v.p99, 1)}`
  // the primary first, then its workers: whether both served
  const split = (r) => (r.cpu_s_by_pid ? ` (${r.processes} processes, CPU s ${r.cpu_s_by_pid.map((s) => f(s, 2)).join(' / ')})` : '')
  return `\n${rows.map((r) => `- ${r.target} ÷ ${r.base}${split(r)}: CPU µs/frame ${x(r.cpu_ratio)} (${f(r.cpu, 1)} / ${f(r.cpu_base, 1)})` +
    (r.redis_cpu_us_per_frame == null ? '' : ` + Redis ${f(r.redis_cpu_us_per_frame, 1)}`) +
    (r.rss_kb == null ? '' : `, RSS/open stream ${x(r.rss_ratio)} (${f(r.rss_kb, 1)} / ${f(r.rss_kb_base, 1)} KB)`) +
    `, p50 ${r.p50_added_us == null ? '—' : `${r.p50_added_us >= 0 ? '+' : ''}${ms(r.p50_added_us)} ms`}` +
    `, TTFB p50/p99 ${t(r.ttfb_ms)} vs ${t(r.ttfb_ms_base)} ms (p99 ${x(r.ttfb_p99_ratio)}), frames/s ${x(r.frames_per_s_ratio)}`).join('\n')}\n`
}

function warmupText (w) {
  if (!w) return ''
  return w.streams
    ? `; warm-up per fresh process ${w.streams} streams × ${w.frames} frames (${w.concurrency} at once), sequential ${w.sequential_requests} requests`
    : '; no warm-up'
}

export function markdown ({ meta, scenarios, results, notes, profiles }) {
  let md = `## llm-relay bench, ${meta.date}\n\n${meta.machine}; scale ${meta.scale}${warmupText(meta.warmup)}${meta.profile ? '; **--profile on: CPU figures include the profiler**' : ''}\n`
  const overFloor = floorRatios(results)
  const overBase = baselineRatios(results)
  for (const [name, sc] of Object.entries(scenarios)) {
    const rows = results.filter((r) => r.scenario === name)
    if (!rows.length) continue
    const d = rows.find((r) => r.target === 'direct' && !r.error)
    md += `\n### ${name}: ${describe(name, sc)}\n\n`
    md += sc.mode === 'request' ? requestTable(rows, d) : PER_STREAM.has(name) ? openTable(rows, sc.c === sc.s) : streamTable(rows, d)
    md += streamLogTable(rows, d)
    md += floorLines(overFloor.filter((r) => r.scenario === name))
    md += baselineLines(overBase.filter((r) => r.scenario === name))
  }
  md += '\n### Targets (from the issue)\n\n| target | measured | met |\n|---|---|---|\n'
  for (const g of goals(results)) md += `| ${g.goal} | ${g.measured} | ${g.verdict} |\n`
  if (notes.length) md += `\n${notes.map((n) => `- ${n}`).join('\n')}\n`
  for (const p of profiles ?? []) {
    // V8's sampler ticks on wall time: while the relay is runnable but descheduled
    // the tick lands where it stopped, most often in writev (whose wake-up of the
    // reader preempts it), so profile time above the measured CPU is that.
    md += `\n#### Profile ${p.name}: ${p.busy_ms} ms sampled, ${p.cpu_ms} ms CPU measured (self time; samples beyond the CPU are time spent descheduled)\n\n` +
      '| where | % |   | function | % |\n|---|---|---|---|---|\n'
    for (let i = 0; i < Math.max(p.groups.length, p.functions.length); i++) {
      const [g, fn] = [p.groups[i], p.functions[i]]
      md += `| ${g ? `\`${g.name}\`` : ''} | ${g?.pct ?? ''} | | ${fn ? `\`${fn.name}\`` : ''} | ${fn?.pct ?? ''} |\n`
    }
  }
  return md
}
