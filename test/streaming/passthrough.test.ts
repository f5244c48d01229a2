import t from 'tap'
import { startUpstream, chatChunk, SSE_HEADERS, sleep } from '../helpers/upstream.js'
import { startRelay, chatBody, readAll } from '../helpers/relay.js'

t.test('openai format forwards the upstream frames byte for byte, each as soon as it is complete', async (t) => {
  const up = await startUpstream(t)
  // An odd but valid stream: a comment, an id line, CRLF line ends in one frame, a frame cut across writes.
  const frames = [
    `data: ${chatChunk('Hel')}\n\n`,
    `: upstream comment\ndata: ${chatChunk('lo')}\n\n`,
    `id: 7\r\ndata: ${chatChunk(' wor')}\r\n\r\n`,
    `data: ${chatChunk('ld 你好', { finish: 'stop' })}\n\n`,
    'data: [DONE]\n\n',
  ]
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    for (const f of frames) {
      const cut = Math.floor(f.length / 2) + 1 // inside the frame (and inside 你 for the 4th)
      res.write(Buffer.from(f).subarray(0, cut))
      await sleep(30)
      res.write(Buffer.from(f).subarray(cut))
      await sleep(60)
    }
    res.end()
  }
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true, stream_options: { include_usage: false } }) })
  t.equal(res.status, 200)
  const { text, reads } = await readAll(res)
  t.equal(text, frames.join(''), 'client bytes equal upstream bytes')
  // Never half a frame: every read ends at a frame boundary, and frames arrive one by one.
  let acc = ''
  for (const r of reads) {
    acc += r.text
    t.ok(frames.some((_, i) => acc === frames.slice(0, i + 1).join('')), 'each read ends on a frame boundary')
  }
  t.ok(reads.length >= 4, `frames arrived separately (${reads.length} reads)`)
})
