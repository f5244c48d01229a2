#!/usr/bin/env node
// Load generator: C concurrent chat requests, S in all, to one URL; prints one
// JSON report on stdout. Each frame's delivery latency = this process's
// CLOCK_MONOTONIC at the read that completed it - the mock's stamp in the frame.
//
//   node bench/load.mjs --url http://127.0.0.1:P/v1/chat/completions [--token sk-bench]
//     [--format openai|content] [--mode stream|request|eventsource] [-c 50] [-s 500] [-n 200]
//     [-i 0] [--ramp-ms 0] [--warmup K] [--duration 120] [--pids 1,2] [--mock-pid P]
//     [--readers 1] [--redis-pid P --redis-port P --replicas 1] [--api chat|responses] [--variant rt]
//
// --api responses: --url is a POST /v1/responses; the body is a Responses request
// (input, max_output_tokens); the stamp is in each response.output_text.delta's delta,
// every event's `type` must match its `event:` and its sequence_number count from 0,
// and the end is response.completed (format openai) or `event: stop` (content).
// --variant rt: the mock's "-rt" model: the first floor(N/3) stamped frames are
// reasoning (delta.reasoning_content, `event: reasoning`, response.reasoning_text.delta:
// their stamps are timed as the answer's), then the answer, then one tool call
// get_weather({"city":"Paris"}); a stream is ok only with exactly that many reasoning
// frames, that one call (assembled from the deltas in openai, one `event: tool_call`
// in content) and finish_reason tool_calls.
//
// --mode request: stream:false, one at a time when -c 1 (keep-alive, one socket);
// latency = request start -> last body byte. --warmup K: K requests of the same
// kind on the same agent first, not recorded. --pids: the proxy's processes,
// whose CPU and RSS are read from /proc over the measured window only.
//
// --mode eventsource (SPEC §6): --url is the relay's POST /v1/streams, or several
// replicas' separated by commas. Stream k is POSTed to url[k % n], then each of its
// --readers GETs the returned url on url[(k + 1 + j) % n] (with two replicas, on the
// one that did not produce it) with ?format=<format>, and reads every event to the
// end; each reader is checked as a stream is. TTFB: POST start -> first GET byte.
// --redis-pid/--redis-port: the shared Redis, whose CPU is read from /proc over the
// same window, and whose connections (CLIENT LIST, the relay's by name) and
// used_memory are sampled every 250 ms with the number of readers open then.
import http from 'node:http'
import { parseArgs } from 'node:util'
import { createSseReader } from './lib/sse-reader.mjs'
import { cpuSeconds, cpuTimes, rssKb, runDelaySeconds, threadTimes } from './lib/proc.mjs'
import { connectRedis, info } from './lib/redis.mjs'

const { values: o } = parseArgs({
  options: {
    url: { type: 'string' },
    token: { type: 'string' },
    format: { type: 'string', default: 'openai' },
    mode: { type: 'string', default: 'stream' },
    c: { type: 'string', short: 'c', default: '50' },
    s: { type: 'string', short: 's', default: '500' },
    n: { type: 'string', short: 'n', default: '20' },
    i: { type: 'string', short: 'i', default: '0' },
    'ramp-ms': { type: 'string', default: '0' },
    warmup: { type: 'string', default: '0' },
    duration: { type: 'string', default: '120' },
    pids: { type: 'string', default: '' },
    'mock-pid': { type: 'string', default: '' },
    label: { type: 'string', default: '' },
    readers: { type: 'string', default: '1' },
    'redis-pid': { type: 'string', default: '' },
    'redis-port': { type: 'string', default: '' },
    replicas: { type: 'string', default: '1' },
    api: { type: 'string', default: 'chat' },
    variant: { type: 'string', default: '' },
  },
})
const [C, S, N, I, RAMP, WARMUP] = [o.c, o.s, o.n, o.i, o['ramp-ms'], o.warmup].map(Number)
const ES = o.mode === 'eventsource'
const STREAM = o.mode === 'stream' || ES
const URLS = o.url.split(',')
// Every reader is one stream of the report (ok/failed, frames, latency).
const READERS = ES ? Math.max(1, Number(o.readers)) : 1
const TOTAL = S * READERS
const REDIS_PID = o['redis-pid'] ? [Number(o['redis-pid'])] : []
const REDIS_PORT = o['redis-port'] ? Number(o['redis-port']) : null
const CONTENT = o.format === 'content'
const PIDS = o.pids.split(',').filter(Boolean).map(Number)
const MOCK = o['mock-pid'] ? [Number(o['mock-pid'])] : []
const RESPONSES = o.api === 'responses'
const RT = o.variant === 'rt'
if (!['chat', 'responses'].includes(o.api) || !['', 'rt'].includes(o.variant) || (RESPONSES && !STREAM) || (RESPONSES && ES)) {
  console.error(`--api chat|responses (responses: --mode stream only), --variant rt; got --api ${o.api} --variant ${o.variant} --mode ${o.mode}`)
  process.exit(2)
}
// -rt: stamped frames that are reasoning (the mock's rule), and the one tool call after the answer
const REASONING = RT ? Math.floor(N / 3) : 0
const TOOL = { name: 'get_weather', arguments: '{"city":"Paris"}' }
const FINISH = RT ? 'tool_calls' : 'stop'

const model = `mock-n${N}-i${I}${RT ? '-rt' : ''}` // the mock reads N and I from here if a proxy drops the fields below
const prompt = 'Write a short story about a relay race.'
const body = JSON.stringify(RESPONSES
  ? { model, stream: true, max_output_tokens: N, interval_ms: I, input: prompt }
  : {
      model,
      stream: STREAM,
      max_tokens: N,
      interval_ms: I,
      ...(STREAM ? { stream_options: { include_usage: true } } : {}), // asked for, so a passthrough relay may forward it as is
      messages: [{ role: 'user', content: prompt }],
    })
const headers = {
  'content-type': 'application/json',
  'content-length': Buffer.byteLength(body),
  accept: STREAM ? 'text/event-stream' : 'application/json',
  ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
}
// One socket per concurrent stream, kept alive for the next stream of that worker.
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: Math.max(256, C) })

// --- counters (reset after the warm-up) ---
let m
const reset = () => {
  m = {
    ok: 0,
    failed: 0,
    errors: {},
    frames: 0,
    doneMissing: 0,
    usage: 0,
    idGaps: 0,
    badFrames: 0,
    nLat: 0,
    lat: new Float64Array(STREAM ? TOTAL * N : S),
    // every frame but each stream's first: in eventsource mode the first was sent before the
    // GET existed (the mock writes it at once), so it is always a replay
    nLive: 0,
    latLive: new Float64Array(STREAM ? TOTAL * N : 0),
    ttfb: [],
    post: [], // eventsource: POST -> 201 ms
    sockets: new Set(),
    reads: 0,
  }
}
reset()
let open = 0; let openPeak = 0; let stop = false
const inflight = new Set()
let readNs = 0 // clock at the current read: every frame that read completes arrived then

const stampOf = (text) => { // "<ns> tok" -> ns
  const sp = typeof text === 'string' ? text.indexOf(' ') : -1
  return sp > 0 ? Number(text.slice(0, sp)) : NaN
}
function frame (st, text, reasoning = false) {
  const ts = stampOf(text)
  if (!Number.isFinite(ts)) { bad(st); return }
  if (reasoning) st.reasoning++
  else if (st.reasoning < REASONING) st.order = true // an answer frame before all the reasoning
  const us = (readNs - ts) / 1000
  if (m.nLat < m.lat.length) m.lat[m.nLat++] = us
  if (st.frames > 0 && m.nLive < m.latLive.length) m.latLive[m.nLive++] = us
  st.frames++
}

const bad = (st) => { m.badFrames++; st.bad++ }

// openai: chat.completion.chunk frames, end `data: [DONE]`, usage in a chunk.
// content: `id: n` + `data: {"content":…}` per delta (`event: reasoning` for reasoning,
// `event: tool_call` per finished call), end `event: stop` + {finish_reason, usage}.
// responses (openai): typed events, end `event: response.completed`.
function onEvent (st, ev) {
  if (st.done) { st.afterEnd = true; return }
  if (!CONTENT && !RESPONSES && ev.data === '[DONE]') { st.done = true; return }
  let j
  try { j = JSON.parse(ev.data) } catch { bad(st); return }
  if (ev.event === 'error' || j.error || j.type === 'error' || j.type === 'response.failed') {
    st.errorEvent = j.error?.message ?? j.message ?? j.response?.error?.message ?? 'error event'
    return
  }
  if (CONTENT) {
    if (ev.id !== String(++st.lastId)) m.idGaps++
    switch (ev.event) {
      case 'stop': st.done = true; st.finish = j.finish_reason; if (j.usage) st.usage = true; return
      case 'message': frame(st, j.content); return
      case 'reasoning': frame(st, j.content, true); return
      case 'tool_call': st.tools.push(j); return
      default: bad(st)
    }
  } else if (RESPONSES) {
    if (j.type !== ev.event || j.sequence_number !== st.seq++) st.seqBad++
    switch (j.type) {
      case 'response.output_text.delta': frame(st, j.delta); return
      case 'response.reasoning_text.delta': frame(st, j.delta, true); return
      case 'response.output_item.done':
        if (j.item?.type === 'function_call') st.tools.push({ id: j.item.call_id, name: j.item.name, arguments: j.item.arguments })
        return
      case 'response.completed':
        st.done = true
        if (j.response?.usage) st.usage = true
        st.finish = j.response?.output?.some((x) => x?.type === 'function_call') ? 'tool_calls' : j.response?.status === 'completed' ? 'stop' : j.response?.status
        return
      case 'response.incomplete': st.errorEvent = `response.incomplete: ${j.response?.incomplete_details?.reason}`
    }
  } else {
    if (j.usage) st.usage = true
    const c = j.choices?.[0]
    const d = c?.delta
    if (d?.reasoning_content) frame(st, d.reasoning_content, true)
    if (d?.content) frame(st, d.content)
    for (const t of d?.tool_calls ?? []) { // assembled from the deltas, by index
      const call = (st.tools[t.index] ??= { id: t.id, name: '', arguments: '' })
      call.name += t.function?.name ?? ''
      call.arguments += t.function?.arguments ?? ''
    }
    if (c?.finish_reason) st.finish = c.finish_reason
  }
}

/** What is wrong with a stream that came to its end marker, else null. */
function incomplete (st) {
  if (st.frames !== N) return `frames ${st.frames}/${N}`
  if (st.bad) return 'unparseable frame'
  if (st.seqBad) return 'event type or sequence_number out of order'
  if (st.reasoning !== REASONING || st.order) return `reasoning frames ${st.reasoning}/${REASONING}${st.order ? ', answer before reasoning' : ''}`
  const want = RT ? [TOOL] : []
  if (st.tools.length !== want.length || st.tools.some((t, k) => t?.name !== want[k].name || t.arguments !== want[k].arguments || !/^call_/.test(t.id))) {
    return `tool calls ${JSON.stringify(st.tools).slice(0, 120)}`
  }
  if (st.finish !== FINISH) return `finish_reason ${st.finish}`
  return null
}

function result (st) {
  const why = st.err ?? (st.status !== 200
    ? `HTTP ${st.status}`
    : st.errorEvent
      ? `error event: ${st.errorEvent}`
      : !st.done ? 'no end marker' : st.afterEnd ? 'data after end marker' : STREAM ? incomplete(st) : null)
  m.frames += st.frames
  if (STREAM && st.status === 200 && !st.done) m.doneMissing++
  if (st.usage) m.usage++
  if (why) { m.failed++; m.errors[why] = (m.errors[why] ?? 0) + 1 } else m.ok++
}

// One chat request (stream or request mode), or one eventsource reader's GET: read to the end, checked, counted.
function request (url = URLS[0], method = 'POST', t0 = process.hrtime.bigint()) {
  return new Promise((resolve) => {
    const st = { status: 0, frames: 0, done: false, usage: false, lastId: 0, err: null, errorEvent: null, afterEnd: false, bad: 0, seq: 0, seqBad: 0, reasoning: 0, order: false, tools: [], finish: undefined }
    let finished = false; let text = ''
    const finish = () => {
      if (finished) return
      finished = true
      inflight.delete(req)
      if (st.counted) open--
      result(st)
      resolve()
    }
    const req = http.request(url, { method, agent, headers: method === 'GET' ? getHeaders : headers }, (res) => {
      st.status = res.statusCode
      res.setEncoding('utf8') // its decoder keeps a split UTF-8 character for the next read
      const reader = STREAM && res.statusCode === 200 ? createSseReader((ev) => onEvent(st, ev)) : null
      let first = true
      if (reader) { st.counted = true; openPeak = Math.max(openPeak, ++open) }
      res.on('data', (s) => {
        const now = process.hrtime.bigint()
        if (first) { first = false; m.ttfb.push(Number(now - t0) / 1e6) }
        m.reads++
        if (reader) { readNs = Number(now); reader.feed(s) } else text += s
      })
      res.on('end', () => {
        if (!STREAM && st.status === 200) { // whole-request latency; the body must carry the mock's stamp
          let j = null
          try { j = JSON.parse(text) } catch { /* counted below */ }
          const ts = stampOf(j?.choices?.[0]?.message?.content)
          if (Number.isFinite(ts)) {
            st.done = true; if (j.usage) st.usage = true
            m.lat[m.nLat++] = Number(process.hrtime.bigint() - t0) / 1000
          } else st.err = 'reply without the mock stamp'
        }
        finish()
      })
      res.on('error', (e) => { st.err ??= e.code ?? e.message; finish() })
    })
    inflight.add(req)
    req.on('socket', (s) => m.sockets.add(s))
    req.on('error', (e) => { st.err ??= e.code ?? e.message; finish() })
    req.end(method === 'GET' ? undefined : body)
  })
}

// The EventSource flow's GET: no token (the id is the capability), what EventSource sends.
const getHeaders = { accept: 'text/event-stream', 'cache-control': 'no-cache' }

/** POST /v1/streams: { status, url } once the 201's JSON is read, or { err }. */
function createStream (url) {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (s) => { text += s })
      res.on('end', () => {
        inflight.delete(req)
        let j = null
        try { j = JSON.parse(text) } catch { /* below */ }
        resolve(res.statusCode === 201 && typeof j?.url === 'string' ? { status: 201, url: j.url } : { err: `POST HTTP ${res.statusCode}${j?.error?.code ? ` ${j.error.code}` : ''}` })
      })
      res.on('error', (e) => { inflight.delete(req); resolve({ err: `POST ${e.code ?? e.message}` }) })
    })
    inflight.add(req)
    req.on('socket', (s) => m.sockets.add(s))
    req.on('error', (e) => { inflight.delete(req); resolve({ err: `POST ${e.code ?? e.message}` }) })
    req.end(body)
  })
}

// Stream k of the eventsource mode: POST on one replica, its READERS read it on the next one(s).
let streamNo = 0
async function eventSourceStream () {
  const k = streamNo++
  const t0 = process.hrtime.bigint()
  const created = await createStream(URLS[k % URLS.length])
  if (created.err) {
    for (let j = 0; j < READERS; j++) result({ err: created.err, frames: 0 })
    return
  }
  m.post.push(Number(process.hrtime.bigint() - t0) / 1e6)
  await Promise.all(Array.from({ length: READERS }, (_, j) =>
    request(`${new URL(created.url, URLS[(k + 1 + j) % URLS.length])}?format=${o.format}`, 'GET', t0)))
}

async function run (total, concurrency, rampMs) {
  let next = 0
  const w = Math.min(concurrency, total)
  await Promise.all(Array.from({ length: w }, async (_, k) => {
    // a ramp spreads the first starts so paced streams do not all tick in the same ms
    if (rampMs) await new Promise((resolve) => setTimeout(resolve, (rampMs * k) / w))
    // eslint-disable-next-line no-unmodified-loop-condition -- `stop` is set by the duration cap's timer
    while (!stop && next < total) { next++; await (ES ? eventSourceStream() : request()) }
  }))
}

// A hard cap on warm-up + load together: a stuck proxy ends the run, it does not hang it.
const cap = setTimeout(() => { stop = true; for (const r of inflight) r.destroy(new Error('duration cap')) },
  Number(o.duration) * 1000)
let warmupFailed = 0
if (WARMUP) { await run(WARMUP, Math.min(C, 20), 0); warmupFailed = m.failed; reset(); openPeak = 0 }

// The shared Redis: its relay connections and memory, sampled with the readers open at the time.
const redisConn = REDIS_PORT ? await connectRedis(REDIS_PORT) : null
await redisConn?.command('CLIENT', 'SETNAME', 'bench-sampler')
const redisSamples = []
let sampling = null // the sample in flight
function sampleRedis () {
  sampling ??= takeSample().finally(() => { sampling = null })
  return sampling
}
async function takeSample () {
  const readersOpen = open
  try {
    const [list, mem] = await Promise.all([redisConn.command('CLIENT', 'LIST'), redisConn.command('INFO', 'memory')])
    const lines = list.split('\n').filter(Boolean)
    redisSamples.push({
      open: readersOpen,
      // the relay names its two connections llm-relay:cmd and llm-relay:sub (CLIENT SETNAME)
      relay: lines.filter((l) => / name=llm-relay:/.test(l)).length,
      clients: lines.length - 1, // all but this one
      used: Number(info(mem).used_memory),
    })
  } catch (e) { redisSamples.push({ error: e.message }) }
}
if (redisConn) await sampleRedis()
const redisTicker = redisConn ? setInterval(sampleRedis, 250) : null

const rss0 = rssKb(PIDS)
let rssPeak = rss0
const sampler = PIDS.length ? setInterval(() => { rssPeak = Math.max(rssPeak, rssKb(PIDS)) }, 100) : null
const redisCpu0 = cpuSeconds(REDIS_PID); const wait0 = runDelaySeconds(PIDS); const redisWait0 = runDelaySeconds(REDIS_PID)
const byPid0 = PIDS.map((p) => cpuSeconds([p])); const cpu0 = cpuTimes(PIDS); const threads0 = threadTimes(PIDS); const mock0 = cpuSeconds(MOCK); const self0 = process.cpuUsage()
const t0 = process.hrtime.bigint()
await run(S, C, RAMP)
const t1 = process.hrtime.bigint()
const wall = Number(t1 - t0) / 1e9
const cpu1 = cpuTimes(PIDS); const byPid = PIDS.map((p, k) => cpuSeconds([p]) - byPid0[k]); const threads1 = threadTimes(PIDS); const redisCpu = cpuSeconds(REDIS_PID) - redisCpu0
const wait = runDelaySeconds(PIDS) - wait0; const redisWait = runDelaySeconds(REDIS_PID) - redisWait0
const cpu = cpu1.total - cpu0.total; const mockCpu = cpuSeconds(MOCK) - mock0
const sysShare = (cpu1.sys - cpu0.sys) / (cpu1.user + cpu1.sys - cpu0.user - cpu0.sys)
const self = process.cpuUsage(self0)
clearTimeout(cap)
if (sampler) { clearInterval(sampler); rssPeak = Math.max(rssPeak, rssKb(PIDS)) }
agent.destroy()
if (redisConn) {
  clearInterval(redisTicker)
  await sampling
  await sampleRedis()
  redisConn.close()
}

const L = m.lat.subarray(0, m.nLat).sort()
const T = Float64Array.from(m.ttfb).sort()
const LL = m.latLive.subarray(0, m.nLive).sort()
const pct = (a, p) => (a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))] : null)
const rnd = (x, d = 1) => (x == null || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d)
const r1 = (x) => rnd(x, 1)
const done = m.ok + m.failed
const perFrame = (x) => (m.frames ? r1((x * 1e6) / m.frames) : null)
const proxy = PIDS.length
  ? {
      pids: PIDS,
      cpu_s: rnd(cpu, 3),
      // several processes (nginx's master and worker, the relay's primary and workers): each one's share, in PIDS' order
      cpu_s_by_pid: PIDS.length > 1 ? byPid.map((x) => rnd(x, 3)) : undefined,
      cpu_util: rnd(cpu / wall, 3),
      cpu_sys_share: rnd(sysShare, 2),
      // runnable but waiting for a CPU, / wall (all threads; 0 without schedstat): starved, not busy
      wait_util: rnd(wait / wall, 3),
      cpu_us_per_frame: STREAM ? perFrame(cpu) : null,
      cpu_us_per_request: done ? r1((cpu * 1e6) / done) : null,
      rss_base_mb: r1(rss0 / 1024),
      rss_peak_mb: r1(rssPeak / 1024),
      rss_kb_per_open_stream: STREAM && openPeak ? r1((rssPeak - rss0) / openPeak) : null,
      // per frame (streams) or per request: the main thread's user and kernel time, other threads' time
      threads_us: (() => {
        const per = (x) => (STREAM ? perFrame(x) : done ? r1((x * 1e6) / done) : null)
        return { main_user: per(threads1.mainUser - threads0.mainUser), main_sys: per(threads1.mainSys - threads0.mainSys), other: per(threads1.other - threads0.other) }
      })(),
    }
  : null
// Redis: CPU per delivered frame; relay connections per replica before the load, at
// their fewest and most while it ran (they must not follow the readers); used_memory
// per open stream at the fullest sample while (nearly) all were open, and per stream
// of the load once all ended (kept for streams.ttlMs, SPEC §6).
const redis = (() => {
  if (!REDIS_PID.length && !redisConn) return null
  const R = Math.max(1, Number(o.replicas))
  const ok = redisSamples.filter((x) => !x.error)
  const [base, end] = [ok[0], ok.at(-1)]
  const during = ok.slice(1, -1)
  const maxOpen = Math.max(0, ...during.map((x) => x.open))
  const full = during.filter((x) => x.open > 0 && x.open >= 0.95 * maxOpen)
  const peak = full.reduce((a, x) => (a && a.used >= x.used ? a : x), null)
  const relay = during.map((x) => x.relay)
  const perReplica = (x) => (x == null ? null : rnd(x / R, 2))
  return {
    pids: REDIS_PID,
    replicas: R,
    cpu_s: rnd(redisCpu, 3),
    cpu_util: rnd(redisCpu / wall, 3),
    wait_util: rnd(redisWait / wall, 3),
    cpu_us_per_frame: STREAM && REDIS_PID.length ? perFrame(redisCpu) : null,
    samples: ok.length,
    sample_errors: redisSamples.length - ok.length,
    conns_per_replica: { base: perReplica(base?.relay), min: perReplica(relay.length ? Math.min(...relay) : null), max: perReplica(relay.length ? Math.max(...relay) : null), at_peak_open: perReplica(peak?.relay) },
    clients_max: Math.max(0, ...during.map((x) => x.clients)),
    readers_at_peak: peak?.open ?? null,
    used_memory_base: base?.used ?? null,
    used_memory_peak: peak?.used ?? null,
    used_memory_end: end?.used ?? null,
    bytes_per_open_stream: peak && base ? Math.round((peak.used - base.used) / (peak.open / READERS)) : null,
    bytes_per_ended_stream: end && base && m.ok ? Math.round((end.used - base.used) / S) : null,
  }
})()
const report = {
  label: o.label,
  url: o.url,
  mode: o.mode,
  format: o.format,
  c: C,
  s: S,
  n: N,
  i: I,
  ramp_ms: RAMP,
  // the measured window on CLOCK_MONOTONIC in µs, the clock of a --cpu-prof profile's timestamps
  window_us: [Number(t0 / 1000n), Number(t1 / 1000n)],
  ok: m.ok,
  failed: m.failed,
  not_started: TOTAL - done,
  errors: m.errors,
  warmup_failed: warmupFailed,
  frames: m.frames,
  frames_expected: STREAM ? TOTAL * N : 0,
  done_missing: m.doneMissing,
  usage_seen: m.usage,
  id_gaps: m.idGaps,
  bad_frames: m.badFrames,
  open_peak: openPeak,
  connections: m.sockets.size,
  reads_per_stream: r1(m.reads / Math.max(1, done)),
  wall_s: rnd(wall, 2),
  frames_per_s: Math.round(m.frames / wall),
  requests_per_s: r1(done / wall),
  lat_us: { p50: r1(pct(L, 0.5)), p90: r1(pct(L, 0.9)), p99: r1(pct(L, 0.99)), max: r1(L[L.length - 1]) },
  lat_live_us: STREAM ? { p50: r1(pct(LL, 0.5)), p99: r1(pct(LL, 0.99)) } : null,
  ttfb_ms: { p50: rnd(pct(T, 0.5), 2), p99: rnd(pct(T, 0.99), 2) },
  ...(ES ? { readers: READERS, replicas: URLS.length, post_ms: (() => { const P = Float64Array.from(m.post).sort(); return { p50: rnd(pct(P, 0.5), 2), p99: rnd(pct(P, 0.99), 2) } })() } : {}),
  loadgen_cpu_util: rnd((self.user + self.system) / 1e6 / wall, 3),
  mock_cpu_util: MOCK.length ? rnd(mockCpu / wall, 3) : null,
  mock_cpu_us_per_frame: MOCK.length ? perFrame(mockCpu) : null,
  proxy,
  redis,
}
process.stdout.write(`${JSON.stringify(report)}\n`)
