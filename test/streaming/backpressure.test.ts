import t from 'tap'
import { connect } from 'node:net'
import { once } from 'node:events'
import { startUpstream, chatChunk, SSE_HEADERS, sleep } from '../helpers/upstream.js'
import { startRelay, chatBody, sseBlocks } from '../helpers/relay.js'

// STYLE "the hot path is explicit": while the client's socket is full the relay stops reading from
// the upstream, so the upstream's own writes back up instead of the relay buffering the stream.

const FRAMES = 2_000
const PAD = 'x'.repeat(16 * 1024)
const frame = (i: number) => `data: ${chatChunk(`${i}:${PAD}`)}\n\n`

/** Decodes an HTTP/1.1 chunked body (the relay's stream has no Content-Length). */
function dechunk (body: Buffer): Buffer {
  const parts: Buffer[] = []
  let at = 0
  for (;;) {
    const eol = body.indexOf('\r\n', at)
    if (eol < 0) throw new Error('truncated chunk size line')
    const size = parseInt(body.subarray(at, eol).toString('latin1'), 16)
    if (size === 0) return Buffer.concat(parts)
    parts.push(body.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
}

t.test('a client that does not read makes the upstream\'s writes back up; then it gets every frame in order', async (t) => {
  const up = await startUpstream(t)
  const progress = { written: 0, waitingForDrain: false, finished: false, writableLength: 0 }
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    for (let i = 0; i < FRAMES; i++) {
      if (res.destroyed) return
      const ok = res.write(frame(i))
      progress.written = i + 1
      if (!ok) {
        progress.waitingForDrain = true
        // Node 26 may keep the unsent bytes in the response's own buffer rather than the socket's.
        progress.writableLength = Math.max(res.writableLength, res.socket?.writableLength ?? 0)
        await once(res, 'drain')
        progress.waitingForDrain = false
      }
    }
    res.end('data: [DONE]\n\n')
    progress.finished = true
  }
  const relay = await startRelay(t, { heartbeatMs: 60_000, upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })

  const socket = connect(relay.port, '127.0.0.1')
  t.teardown(() => socket.destroy())
  await once(socket, 'connect')
  const body = chatBody('gpt-test', { stream: true, stream_options: { include_usage: false } })
  socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  socket.pause() // reads nothing: the kernel buffers fill, then the relay's writes fail

  // Wait (bounded) until the upstream makes no progress for 500 ms.
  let last = -1
  let stillSince = performance.now()
  const deadline = performance.now() + 15_000
  while (performance.now() < deadline && !progress.finished) {
    await sleep(100)
    if (progress.written !== last) { last = progress.written; stillSince = performance.now() } else if (progress.written > 0 && performance.now() - stillSince >= 500) break
  }
  t.notOk(progress.finished, `the upstream could not write everything (stalled at ${progress.written} of ${FRAMES} frames)`)
  t.ok(progress.waitingForDrain, 'the upstream is waiting for drain: its res.write() returned false')
  t.ok(progress.written < FRAMES, 'the relay stopped reading from the upstream')
  t.ok(progress.writableLength > 0, `the upstream socket holds unsent bytes (${progress.writableLength})`)
  await sleep(300)
  t.equal(progress.written, last, 'and no further progress while the client does not read')

  // Now read everything.
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  socket.resume()
  await once(socket, 'end', { signal: AbortSignal.timeout(30_000) })
  t.ok(progress.finished, 'the upstream finished once the client read')

  const raw = Buffer.concat(chunks)
  const split = raw.indexOf('\r\n\r\n')
  const head = raw.subarray(0, split + 2).toString('latin1')
  t.match(head, /^HTTP\/1\.1 200 OK\r\n/)
  t.match(head, /\r\ntransfer-encoding: chunked\r\n/i)
  const blocks = sseBlocks(dechunk(raw.subarray(split + 4)).toString('utf8'))
  t.equal(blocks.length, FRAMES + 1, 'every frame and [DONE]')
  t.equal(blocks.at(-1), 'data: [DONE]')
  let inOrder = true
  for (let i = 0; i < FRAMES; i++) if (`${blocks[i]}\n\n` !== frame(i)) { inOrder = false; t.fail(`frame ${i} differs`); break }
  t.ok(inOrder, 'all frames byte for byte, in order')
  const summaries = await relay.waitForSummaries()
  t.equal(summaries.at(-1)?.outcome, 'completed')
  t.equal(summaries.at(-1)?.frames, FRAMES, 'the log counts the data frames')
})

t.test('a client that leaves while the relay is holding the upstream back: the upstream is aborted', async (t) => {
  const up = await startUpstream(t)
  let written = 0
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    for (let i = 0; i < FRAMES && !res.destroyed; i++) {
      written = i + 1
      if (!res.write(frame(i))) await Promise.race([once(res, 'drain'), once(res, 'close')])
    }
    if (!res.destroyed) res.end('data: [DONE]\n\n')
  }
  const relay = await startRelay(t, { heartbeatMs: 60_000, upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const socket = connect(relay.port, '127.0.0.1')
  await once(socket, 'connect')
  const body = chatBody('gpt-test', { stream: true, stream_options: { include_usage: false } })
  socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  socket.pause()
  let last = -1
  for (let i = 0; i < 100 && written !== last; i++) { last = written; await sleep(200) }
  t.ok(written > 0 && written < FRAMES, `the upstream is held back (${written} of ${FRAMES} frames written)`)
  const at = performance.now()
  socket.destroy()
  const closed = await Promise.race([up.requests[0]!.socketClosed.then(() => performance.now() - at), new Promise<number>((resolve) => setTimeout(resolve, 1000, -1).unref())])
  t.ok(closed >= 0, `the upstream's socket closed within 1000 ms (${Math.round(closed)} ms)`)
  t.equal((await relay.waitForSummaries())[0]?.outcome, 'client_aborted')
})
