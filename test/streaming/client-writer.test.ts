import t from 'tap'
import { createServer, type ServerResponse } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { once } from 'node:events'
import { ClientWriter } from '../../src/relay/client-writer.js'

// relay/client-writer.ts on a real node:http response over TCP: what one upstream read produced
// (several flushes in one tick, and the end when it came in the same read) leaves in one writev —
// the socket stays corked until the next tick — and the bytes are a correct chunked HTTP/1.1 body.

async function withResponse (fn: (res: ServerResponse) => void | Promise<void>): Promise<string> {
  const server = createServer((_req, res) => { void fn(res) })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1')
  client.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')
  let text = ''
  client.on('data', (d: Buffer) => { text += d.toString('latin1') })
  await once(client, 'close')
  server.close()
  return text
}

t.test('the flushes of one tick and the end leave in one corked write; the body is well framed', async (t) => {
  const seen: Array<{ corked: number, buffered: number }> = []
  const text = await withResponse((res) => {
    const socket = res.socket as Socket
    const out = new ClientWriter(res)
    out.start(200, { 'content-type': 'text/event-stream' })
    out.push('data: 1\n\n')
    t.ok(out.flush(), 'the first flush is not held back')
    out.push('data: 2\n\n')
    out.flush()
    seen.push({ corked: socket.writableCorked, buffered: socket.writableLength })
    process.nextTick(() => {
      seen.push({ corked: socket.writableCorked, buffered: socket.writableLength })
      out.push('data: 3\n\n')
      out.end()
    })
  })
  t.ok((seen[0]?.corked ?? 0) > 0, 'corked until the next tick')
  t.ok((seen[0]?.buffered ?? 0) > 0, 'both chunks (and the headers) waiting in the socket for one writev')
  t.equal(seen[1]?.corked, 0, 'uncorked on the next tick')
  t.match(text, /^HTTP\/1\.1 200 OK\r\n/)
  const body = text.slice(text.indexOf('\r\n\r\n') + 4)
  t.equal(body, '9\r\ndata: 1\n\n\r\n9\r\ndata: 2\n\n\r\n9\r\ndata: 3\n\n\r\n0\r\n\r\n', 'three chunks and the terminator, in order')
})

t.test('a write after the end of the tick is corked again, and a heartbeat-only flush writes nothing extra', async (t) => {
  const text = await withResponse(async (res) => {
    const out = new ClientWriter(res)
    out.start(200, { 'content-type': 'text/event-stream' })
    out.push(': hb\n\n')
    out.flush()
    await new Promise((resolve) => setTimeout(resolve, 10))
    t.ok(out.flush(), 'nothing queued: nothing written')
    out.push('data: x\n\n')
    out.flush()
    t.ok((res.socket as Socket).writableCorked > 0)
    await new Promise((resolve) => setTimeout(resolve, 10))
    out.end()
  })
  const body = text.slice(text.indexOf('\r\n\r\n') + 4)
  t.equal(body, '6\r\n: hb\n\n\r\n9\r\ndata: x\n\n\r\n0\r\n\r\n')
})
