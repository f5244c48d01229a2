import t from 'tap'
import { startRelayOver, waitFor } from '../helpers/relay.js'
import { endlessNativeHandler, postResponses, responsesBody } from '../helpers/responses-relay.js'

// SPEC §5 and §5.1: a client that goes away mid-stream aborts the upstream Responses request at
// once (its socket closes within a second), and the log line says client_aborted.

t.test('client disconnect mid-stream closes the upstream socket within 1 s', async (t) => {
  const { reply, handler } = endlessNativeHandler()
  const { up, relay } = await startRelayOver(t, handler)
  const controller = new AbortController()
  const res = await postResponses(relay, responsesBody('gpt-5-mini'), { signal: controller.signal })
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  while (!text.includes('tick3 ')) {
    const { value, done } = await reader.read()
    if (done) break
    text += decoder.decode(value, { stream: true })
  }
  let closedAt: number | undefined
  void up.requests[0]!.socketClosed.then(() => { closedAt = performance.now() })
  const abortedAt = performance.now()
  controller.abort()
  await waitFor('the upstream socket to close', () => closedAt !== undefined, 5_000)
  const ms = closedAt! - abortedAt
  t.ok(ms < 1000, `the upstream socket closed ${Math.round(ms)} ms after the client left`)
  t.ok(reply.sent < 1000, `the generation was cut short (${reply.sent} deltas)`)
  const [line] = await relay.waitForSummaries()
  t.equal(line?.outcome, 'client_aborted')
})
