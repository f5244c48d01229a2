import t from 'tap'
import { readAll, startRelayOver } from '../helpers/relay.js'
import { sleep } from '../helpers/upstream.js'

// SPEC §4: an event stream from another POST path is passed back as it comes: the same bytes,
// each piece when it arrives, with the relay's anti-buffering headers.

const PIECES = ['event: progress\ndata: {"step":1}\n\n', 'event: progress\ndata: {"step":2}\n\n', 'event: done\ndata: {"url":"https://x/img.png"}\n\n']

t.test('SSE from images/generations: byte for byte, piece by piece', async (t) => {
  const { relay } = await startRelayOver(t, async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (const piece of PIECES) {
      res.write(piece)
      await sleep(100)
    }
    res.end()
  })
  const res = await fetch(`${relay.url}/v1/images/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-image-1', prompt: 'a cat', stream: true }) })
  t.equal(res.headers.get('content-type'), 'text/event-stream')
  t.equal(res.headers.get('cache-control'), 'no-cache, no-transform')
  t.equal(res.headers.get('x-accel-buffering'), 'no')
  const read = await readAll(res)
  t.equal(read.text, PIECES.join(''))
  t.ok(read.reads.length >= 3, `arrived in ${read.reads.length} reads, not at once`)
  const [line] = await relay.waitForSummaries()
  t.match(line, { url: '/v1/images/generations', stream: true, outcome: 'completed' })
})
