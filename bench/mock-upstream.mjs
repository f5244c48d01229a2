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
const framesOf = (b) => Math.max(0, Number(b.max_tokens ?? fromModel(b.model, 'n') ?? 20) | 0)
const intervalOf = (b) => Math.max(0, Number(b.interval_ms ?? fromModel(b.model, 'i') ?? 0))
const usageOf = (b, n) => {
  const p = JSON.stringify(b.messages ?? []).length >> 2
  return `{"prompt_tokens":${p},"completion_tokens":${n},"total_tokens":${p + n}}`
}

async function stream (res, body) {
  const n = framesOf(body)
  const interval = intervalOf(body)
  // The constant parts of a frame are built once per stream; per frame only the
  // stamp is concatenated in, so the mock's own cost stays small and flat.
  const head = `data: {"id":"chatcmpl-${process.pid}-${++seq}","object":"chat.completion.chunk",` +
    `"created":${Math.floor(Date.now() / 1000)},"model":"${MODEL}","system_fingerprint":"fp_mock",` +
    '"choices":[{"index":0,"delta":{'
  const first = `${head}"role":"assistant","content":"`
  const next = `${head}"content":"`
  const tail = ' tok"},"logprobs":null,"finish_reason":null}]}\n\n'
  let closed = false
  res.on('close', () => { closed = true })
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  res.flushHeaders()
  const write = async (s) => {
    // honour backpressure: a slow reader must not make the mock buffer without bound
    if (!res.write(s) && !closed) await new Promise((resolve) => { res.once('drain', resolve); res.once('close', resolve) })
  }
  for (let i = 0; i < n; i++) {
    if (i > 0) await (interval > 0 ? sleep(interval) : yieldLoop())
    if (closed) return
    await write((i === 0 ? first : next) + process.hrtime.bigint() + tail)
  }
  if (closed) return
  await write(`${head}},"logprobs":null,"finish_reason":"stop"}],"usage":${usageOf(body, n)}}\n\n`)
  res.end('data: [DONE]\n\n')
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
  if (req.method !== 'POST' || path !== '/v1/chat/completions') {
    return json(res, 404, '{"error":{"message":"not found","type":"invalid_request_error","param":null,"code":null}}')
  }
  const bufs = []
  req.on('data', (b) => bufs.push(b))
  req.on('end', () => {
    let body
    try { body = JSON.parse(Buffer.concat(bufs).toString()) } catch {
      return json(res, 400, '{"error":{"message":"bad json","type":"invalid_request_error","param":null,"code":null}}')
    }
    if (body.stream) stream(res, body).catch(() => res.destroy())
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
