import t from 'tap'
import { startUpstream, chatChunk, SSE_HEADERS, sleep } from '../helpers/upstream.js'
import { startRelay } from '../helpers/relay.js'
import { createStream, parseEvents } from '../helpers/streams.js'

// SPEC §6: a stream's buffer is bounded (streams.maxBufferBytes); overflow ends it with an
// error event and stops the upstream. Nothing after the limit is kept, nothing is skipped.
t.test('past maxBufferBytes: an error event, the upstream aborted, no gap before it', async (t) => {
  const up = await startUpstream(t)
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    for (let i = 0; i < 200 && !res.destroyed; i++) {
      res.write(`data: ${chatChunk(`${String(i).padStart(3, '0')}${'x'.repeat(40)}`)}\n\n`)
      await sleep(2)
    }
    res.end('data: [DONE]\n\n')
  }
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }], streams: { maxBufferBytes: 4096 } })
  const { json } = await createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
  const closedAfter = await up.requests[0]!.socketClosed
  t.ok(closedAfter < 5000, 'the upstream was stopped')

  const events = parseEvents(await (await fetch(`${relay.url}${json.url}?format=content`)).text())
  const tokens = events.slice(0, -1).map((e) => JSON.parse(e.data).content as string)
  t.ok(tokens.length > 5 && tokens.length < 200, `${tokens.length} tokens kept`)
  t.same(tokens, tokens.map((_, i) => `${String(i).padStart(3, '0')}${'x'.repeat(40)}`), 'the first tokens, none skipped')
  t.same(events.at(-1), { id: String(tokens.length + 1), event: 'error', data: '{"error":{"message":"The stream\'s buffer of 4096 bytes is full","type":"api_error","param":null,"code":"stream_buffer_full"}}' })
})
