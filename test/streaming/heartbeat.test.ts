import t from 'tap'
import { startUpstream, chatChunk, SSE_HEADERS, sleep } from '../helpers/upstream.js'
import { startRelay, chatBody, readAll } from '../helpers/relay.js'

// SPEC §5: a `: keep-alive` comment when nothing was sent for heartbeatMs, and only then.

const KEEP_ALIVE = ': keep-alive\n\n'
const first = `data: ${chatChunk('Hel')}\n\n`
const second = `data: ${chatChunk('lo', { finish: 'stop' })}\n\n`

async function post (url: string, format = 'openai'): Promise<Response> {
  return fetch(`${url}/v1/chat/completions?format=${format}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: chatBody('gpt-test', { stream: true, stream_options: { include_usage: false } }),
  })
}

t.test('keep-alive comments fill a silence longer than heartbeatMs', async (t) => {
  const up = await startUpstream(t)
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(first)
    await sleep(700)
    res.end(`${second}data: [DONE]\n\n`)
  }
  const relay = await startRelay(t, { heartbeatMs: 200, upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const res = await post(relay.url)
  const { text } = await readAll(res)
  t.ok(text.startsWith(first), 'the first frame comes first')
  t.ok(text.endsWith(`${second}data: [DONE]\n\n`), 'the stream ends with the second frame and [DONE]')
  const silence = text.slice(first.length, text.length - second.length - 'data: [DONE]\n\n'.length)
  // 700 ms / 200 ms: three beats; allow one either way for timer jitter on a loaded machine.
  const beats = silence.split(KEEP_ALIVE)
  t.same(beats.filter((b) => b !== ''), [], 'only keep-alive comments between the frames')
  const count = beats.length - 1
  t.ok(count >= 2 && count <= 4, `2-4 keep-alives during 700 ms of silence (got ${count})`)
})

t.test('no keep-alive while frames flow faster than heartbeatMs', async (t) => {
  const up = await startUpstream(t)
  const frames = Array.from({ length: 16 }, (_, i) => `data: ${chatChunk(`t${i}`)}\n\n`)
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    for (const f of frames) {
      res.write(f)
      await sleep(50)
    }
    res.end('data: [DONE]\n\n')
  }
  // 50 ms gaps against a 400 ms heartbeat: a wide margin for a busy test machine.
  const relay = await startRelay(t, { heartbeatMs: 400, upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const { text, reads } = await readAll(await post(relay.url))
  t.equal(text, frames.join('') + 'data: [DONE]\n\n', 'exactly the frames, no comment among them')
  t.ok(reads.length >= 8, `the frames came over time (${reads.length} reads)`)
})

t.test('the text format never gets a keep-alive (it has no comment syntax)', async (t) => {
  const up = await startUpstream(t)
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(first)
    await sleep(500)
    res.end(`${second}data: [DONE]\n\n`)
  }
  const relay = await startRelay(t, { heartbeatMs: 100, upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const { text } = await readAll(await post(relay.url, 'text'))
  t.equal(text, 'Hello')
})
