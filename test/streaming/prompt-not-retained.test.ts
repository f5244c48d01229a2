import t from 'tap'
import { request } from 'node:http'
import v8 from 'node:v8'
import vm from 'node:vm'
import { startUpstream, chatChunk, SSE_HEADERS, sleep } from '../helpers/upstream.js'
import { startRelay } from '../helpers/relay.js'

// An open stream must not keep its prompt alive (upstream/one-shot-body.ts): undici keeps a string
// or Buffer body until the response ends, i.e. for as long as the answer streams. 16 streams with a
// 1 MiB prompt each stay open here; after a full GC the relay's ArrayBuffer memory (Buffers live
// there, outside the JS heap) must not have grown by anything near 16 MiB. The relay runs in this
// process, so process.memoryUsage() is its memory.
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

/** ArrayBuffer memory after full GCs: V8 frees backing stores on a background sweeper, so let it finish. */
async function settledArrayBuffers (): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc()
    await sleep(50)
  }
  return process.memoryUsage().arrayBuffers
}

const STREAMS = 16
const PROMPT_BYTES = 1024 * 1024
const MiB = 1024 * 1024

t.test('open streams do not hold their request bodies', async (t) => {
  const up = await startUpstream(t)
  const release: Array<() => void> = []
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(`data: ${chatChunk('first')}\n\n`)
    await new Promise<void>((resolve) => release.push(resolve))
    res.end(`data: ${chatChunk(null, { finish: 'stop' })}\n\ndata: [DONE]\n\n`)
  }
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  // One Buffer for every request, so the clients' side holds 1 MiB whatever the relay does.
  const body = Buffer.from(JSON.stringify({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'x'.repeat(PROMPT_BYTES) }] }))
  const port = new URL(relay.url).port
  const before = await settledArrayBuffers()

  const firstFrames: Array<Promise<string>> = []
  const ended: Array<Promise<string>> = []
  for (let i = 0; i < STREAMS; i++) {
    let text = ''
    let gotFirst!: (s: string) => void
    firstFrames.push(new Promise((resolve) => { gotFirst = resolve }))
    ended.push(new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
        res.setEncoding('utf8')
        res.on('data', (s: string) => { text += s; if (text.includes('first')) gotFirst(text) })
        res.on('end', () => resolve(text))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(body)
    }))
  }
  await Promise.all(firstFrames)
  t.equal(up.requests.length, STREAMS, 'every stream reached the upstream')
  t.ok(up.requests.every((r) => r.body.length > PROMPT_BYTES), 'each with its whole prompt')
  // The upstream helper keeps each request's body as a string (heap), not in ArrayBuffers.
  const grown = await settledArrayBuffers() - before
  t.ok(grown < 4 * MiB, `ArrayBuffer memory grew by ${(grown / MiB).toFixed(1)} MiB with ${STREAMS} streams of ${PROMPT_BYTES / MiB} MiB prompts open (limit 4 MiB)`)

  for (const r of release) r()
  const texts = await Promise.all(ended)
  t.ok(texts.every((s) => s.includes('data: [DONE]')), 'every stream then completes')
})
