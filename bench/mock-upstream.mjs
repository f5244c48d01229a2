#!/usr/bin/env node
// Mock OpenAI upstream for the bench (node:http, no dependencies).
//
//   node bench/mock-upstream.mjs [--port 0]     prints {"port":N,"pid":P} on stdout once listening
//
// POST /v1/chat/completions
//   stream:true  -> N `chat.completion.chunk` frames, ONE write() each (so a paced
//                   frame reaches the proxy as its own TCP read, as from a real LLM),
//                   the first at once, then one every I ms (0 = back-to-back, with a
//                   setImmediate yield so concurrent streams interleave); then a
//                   finish chunk carrying usage; then `data: [DONE]`.
//                   delta.content = "<process.hrtime.bigint() at write> tok": the
//                   CLOCK_MONOTONIC stamp the load generator subtracts from its own clock.
//   stream:false -> one chat.completion whose content starts with the same stamp.
//   N = max_tokens, I = interval_ms; both may also come from the model name
//   ("mock-n60-i50") for a proxy that drops unknown body fields.
//   "-rt" in the model name ("mock-n60-i50-rt"): reasoning, then answer, then a tool
//   call. The first floor(N/3) stamped frames carry delta.reasoning_content, the rest
//   delta.content (the same stamp); then 3 delta.tool_calls chunks, I ms apart (index
//   0: id + function name, then the arguments `{"city":` and `"Paris"}`); the finish
//   chunk says finish_reason "tool_calls".
// POST /v1/responses (stream:true, OpenAI's Responses API): response.created,
//   response.in_progress, response.output_item.added, response.content_part.added
//   and the first response.output_text.delta in one write at once, then one delta
//   per write every I ms (delta = the same "<stamp> tok"), then the output_text /
//   content_part / output_item `.done` events and response.completed with usage.
//   Every frame is `event: <type>` + `data: {"type":…,"sequence_number":n,…}`, n from 0.
//   N = max_output_tokens (or from the model name), I as for chat.
// GET /v1/models
import http from 'node:http'
import { parseArgs } from 'node:util'
import { setTimeout as sleep, setImmediate as yieldLoop } from 'node:timers/promises'

const { values: opts } = parseArgs({ options: { port: { type: 'string', default: '0' } } })
const MODEL = 'mock-gpt'
let seq = 0

const fromModel = (model, key) => {
  const m = typeof model === 'string' ? model.match(new RegExp(`-${key}(\\d+)`)) : null
  return m ? Number(m[1]) : undefined
}
const framesOf = (b) => Math.max(0, Number(b.max_tokens ?? b.max_output_tokens ?? fromModel(b.model, 'n') ?? 20) | 0)
const intervalOf = (b) => Math.max(0, Number(b.interval_ms ?? fromModel(b.model, 'i') ?? 0))
// "-rt": reasoning + tool call (in the model name, so it survives the relay's Responses facade)
const reasoningAndTools = (b) => typeof b.model === 'string' && /-rt(-|$)/.test(b.model)
const reasoningFrames = (n) => Math.floor(n / 3)
const usageOf = (b, n) => {
  const p = JSON.stringify(b.messages ?? []).length >> 2
  return `{"prompt_tokens":${p},"completion_tokens":${n},"total_tokens":${p + n}}`
}

const pause = (interval) => (interval > 0 ? sleep(interval) : yieldLoop())

/** A streamed answer's 200 and headers; write() honours backpressure (a slow reader must not make the mock buffer without bound). */
function sseOut (res, contentType) {
  const out = {
    closed: false,
    write: async (s) => {
      if (!res.write(s) && !out.closed) await new Promise((resolve) => { res.once('drain', resolve); res.once('close', resolve) })
    },
  }
  res.on('close', () => { out.closed = true })
  res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-cache' })
  res.flushHeaders()
  return out
}

async function stream (res, body) {
  const n = framesOf(body)
  const interval = intervalOf(body)
  // The constant parts of a frame are built once per stream; per frame only the
  // stamp is concatenated in, so the mock's own cost stays small and flat.
  const head = `data: {"id":"chatcmpl-${process.pid}-${++seq}","object":"chat.completion.chunk",` +
    `"created":${Math.floor(Date.now() / 1000)},"model":"${MODEL}","system_fingerprint":"fp_mock",` +
    '"choices":[{"index":0,"delta":{'
  const rt = reasoningAndTools(body)
  const first = `${head}"role":"assistant","content":"`
  const next = `${head}"content":"`
  const tail = ' tok"},"logprobs":null,"finish_reason":null}]}\n\n'
  // -rt: the first part of the stream is reasoning (the same stamp), then a tool call after the answer
  const reasoning = rt ? reasoningFrames(n) : 0
  const firstReasoning = `${head}"role":"assistant","content":null,"reasoning_content":"`
  const nextReasoning = `${head}"reasoning_content":"`
  const toolTail = '},"logprobs":null,"finish_reason":null}]}\n\n'
  const tools = rt
    ? [`${head}"tool_calls":[{"index":0,"id":"call_${process.pid}_${seq}","type":"function","function":{"name":"get_weather","arguments":""}}]${toolTail}`,
        `${head}"tool_calls":[{"index":0,"function":{"arguments":"{\\"city\\":"}}]${toolTail}`,
        `${head}"tool_calls":[{"index":0,"function":{"arguments":"\\"Paris\\"}"}}]${toolTail}`]
    : []
  const out = sseOut(res, 'text/event-stream')
  for (let i = 0; i < n; i++) {
    if (i > 0) await pause(interval)
    if (out.closed) return
    const open = i < reasoning ? (i === 0 ? firstReasoning : nextReasoning) : i === 0 ? first : next
    await out.write(open + process.hrtime.bigint() + tail)
  }
  for (const t of tools) {
    await pause(interval)
    if (out.closed) return
    await out.write(t)
  }
  if (out.closed) return
  await out.write(`${head}},"logprobs":null,"finish_reason":"${rt ? 'tool_calls' : 'stop'}"}],"usage":${usageOf(body, n)}}\n\n`)
  res.end('data: [DONE]\n\n')
}

// OpenAI's Responses API stream: typed events, each `event: <type>` and a `data:` whose `type` says
// the same and whose `sequence_number` counts from 0; the answer in response.output_text.delta.
async function responses (res, body) {
  const n = framesOf(body)
  const interval = intervalOf(body)
  const id = `resp_${process.pid}_${++seq}`
  const msg = `msg_${process.pid}_${seq}`
  const created = Math.floor(Date.now() / 1000)
  let sn = 0
  const ev = (type, rest) => `event: ${type}\ndata: {"type":"${type}","sequence_number":${sn++},${rest}}\n\n`
  const response = (status, output, usage) => `"response":{"id":"${id}","object":"response","created_at":${created},"status":"${status}",` +
    `"error":null,"incomplete_details":null,"instructions":null,"max_output_tokens":${n},"model":"${MODEL}","output":${output},` +
    '"parallel_tool_calls":true,"previous_response_id":null,"store":false,"temperature":1,"text":{"format":{"type":"text"}},' +
    `"tool_choice":"auto","tools":[],"top_p":1,"truncation":"disabled","usage":${usage},"metadata":{}}`
  const at = `"item_id":"${msg}","output_index":0,"content_index":0`
  const deltaHead = 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":'
  const deltaMid = `,${at},"delta":"`
  const deltaTail = ' tok","logprobs":[]}\n\n'
  const out = sseOut(res, 'text/event-stream; charset=utf-8')
  let text = ''
  let opening = ev('response.created', response('in_progress', '[]', 'null')) +
    ev('response.in_progress', response('in_progress', '[]', 'null')) +
    ev('response.output_item.added', `"output_index":0,"item":{"id":"${msg}","type":"message","status":"in_progress","role":"assistant","content":[]}`) +
    ev('response.content_part.added', `${at},"part":{"type":"output_text","annotations":[],"logprobs":[],"text":""}`)
  for (let i = 0; i < n; i++) {
    if (i > 0) await pause(interval)
    if (out.closed) return
    const stamp = process.hrtime.bigint()
    text += `${stamp} tok`
    await out.write(`${opening}${deltaHead}${sn++}${deltaMid}${stamp}${deltaTail}`)
    opening = ''
  }
  if (out.closed) return
  const part = `{"type":"output_text","annotations":[],"logprobs":[],"text":"${text}"}`
  const item = `{"id":"${msg}","type":"message","status":"completed","role":"assistant","content":[${part}]}`
  const p = JSON.stringify(body.input ?? '').length >> 2
  res.end(opening + ev('response.output_text.done', `${at},"text":"${text}","logprobs":[]`) +
    ev('response.content_part.done', `${at},"part":${part}`) +
    ev('response.output_item.done', `"output_index":0,"item":${item}`) +
    ev('response.completed', response('completed', `[${item}]`,
      `{"input_tokens":${p},"input_tokens_details":{"cached_tokens":0},"output_tokens":${n},"output_tokens_details":{"reasoning_tokens":0},"total_tokens":${p + n}}`)))
}

function complete (res, body) {
  const n = framesOf(body)
  res.writeHead(200, { 'content-type': 'application/json' }).end(
    `{"id":"chatcmpl-${process.pid}-${++seq}","object":"chat.completion","created":${Math.floor(Date.now() / 1000)},` +
    `"model":"${MODEL}","system_fingerprint":"fp_mock","choices":[{"index":0,"message":{"role":"assistant",` +
    `"content":"${process.hrtime.bigint()}${' tok'.repeat(n)}","refusal":null},"logprobs":null,"finish_reason":"stop"}],` +
    `"usage":${usageOf(body, n)}}`)
}

const json = (res, status, s) => res.writeHead(status, { 'content-type': 'application/json' }).end(s)

const server = http.createServer((req, res) => {
  const path = req.url.split('?')[0]
  if (req.method === 'GET' && path === '/v1/models') {
    return json(res, 200, `{"object":"list","data":[{"id":"${MODEL}","object":"model","created":0,"owned_by":"bench"}]}`)
  }
  if (req.method !== 'POST' || (path !== '/v1/chat/completions' && path !== '/v1/responses')) {
    return json(res, 404, '{"error":{"message":"not found","type":"invalid_request_error","param":null,"code":null}}')
  }
  const bufs = []
  req.on('data', (b) => bufs.push(b))
  req.on('end', () => {
    let body
    try { body = JSON.parse(Buffer.concat(bufs).toString()) } catch {
      return json(res, 400, '{"error":{"message":"bad json","type":"invalid_request_error","param":null,"code":null}}')
    }
    if (path === '/v1/responses') {
      if (body.stream) responses(res, body).catch(() => res.destroy())
      else json(res, 400, '{"error":{"message":"the bench mock streams /v1/responses only","type":"invalid_request_error","param":"stream","code":null}}')
    } else if (body.stream) stream(res, body).catch(() => res.destroy())
    else complete(res, body)
  })
})
// The relay pools its connections to us: never be the side that closes an idle one.
server.keepAliveTimeout = 120_000
server.headersTimeout = 125_000
server.requestTimeout = 0
server.listen({ port: Number(opts.port), host: '127.0.0.1', backlog: 8192 }, () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port, pid: process.pid })}\n`)
})
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0))
