import t, { type Test } from 'tap'
import { readAll, readUntilEnd, startRelayOver } from '../helpers/relay.js'
import { nativePrefix, postResponses, responsesBody, writeNativeCut, type NativeCut } from '../helpers/responses-relay.js'

// SPEC §5.1: a failure after the first byte is ONE `event: error` with
// {"type":"error","code":"upstream_error","message":…,"sequence_number":n}, n one past the last
// event sent, and never a response.completed: the upstream's error event, its response.failed,
// a reset, a stream that ends without a final event, the idle timeout.

const SENT = 12 // the fixture's first 12 events: up to the answer's first delta

function errorEvent (message: string, sequence: number): string {
  return `event: error\ndata: ${JSON.stringify({ type: 'error', code: 'upstream_error', message, param: null, sequence_number: sequence })}\n\n`
}

async function cutStream (t: Test, cut: NativeCut, config = {}) {
  const { relay } = await startRelayOver(t, (_req, res) => writeNativeCut(res, SENT, cut), config)
  const res = await postResponses(relay, responsesBody('gpt-5-mini'))
  t.equal(res.status, 200, 'the stream had begun')
  const { text } = await readAll(res)
  const [line] = await relay.waitForSummaries()
  return { text, line }
}

t.test('the upstream\'s own error event', async (t) => {
  const { text, line } = await cutStream(t, { event: 'error', data: { code: 'server_error', message: 'The model crashed', param: null } })
  t.equal(text, nativePrefix(SENT) + errorEvent('Upstream "up" reported an error (server_error): The model crashed', SENT))
  t.match(line, { outcome: 'upstream_error', status: 200 })
})

t.test('the upstream\'s response.failed', async (t) => {
  const failed = { response: { id: 'resp_x', object: 'response', status: 'failed', error: { code: 'rate_limit_exceeded', message: 'Slow down' } } }
  const { text } = await cutStream(t, { event: 'response.failed', data: failed })
  t.equal(text, nativePrefix(SENT) + errorEvent('Upstream "up" reported an error (rate_limit_exceeded): Slow down', SENT))
})

t.test('a reset mid-stream', async (t) => {
  const { text, line } = await cutStream(t, 'reset')
  t.equal(text, nativePrefix(SENT) + errorEvent('Connection to upstream "up" was reset', SENT))
  t.match(line, { outcome: 'upstream_error' })
})

t.test('a stream that ends without a final event (truncated)', async (t) => {
  const { text, line } = await cutStream(t, 'end')
  t.equal(text, nativePrefix(SENT) + errorEvent('Upstream "up" ended the stream before it was complete', SENT))
  t.notMatch(text, /response\.completed/)
  t.match(line, { outcome: 'upstream_error' })
})

t.test('the idle timeout', async (t) => {
  const { text, line } = await cutStream(t, 'hang', { timeouts: { idleMs: 300 } })
  t.equal(text, nativePrefix(SENT) + errorEvent('Upstream "up" sent nothing for longer than the idle timeout', SENT))
  t.match(line, { outcome: 'timeout' })
})

t.test('text over a broken native stream: the connection is cut, not ended cleanly', async (t) => {
  const { relay } = await startRelayOver(t, (_req, res) => writeNativeCut(res, SENT, 'end'))
  const res = await postResponses(relay, responsesBody('gpt-5-mini'), { format: 'text' })
  const read = await readUntilEnd(res)
  t.equal(read.text, 'Hello')
  t.ok(read.error, 'the reader sees an error')
})
