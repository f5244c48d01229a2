import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/relay.js'
import { launchBrowser, openPage, configure, send, waitForReply, waitForReplyEnd, replyState, scriptReply, screenshot, PLAYGROUND_TOKEN, startPlaygroundRelay } from '../helpers/browser.js'

// SPEC §6 and §7 in a real browser, EventSource mode: the page POSTs /v1/streams with its
// token, then reads the stream with a plain `new EventSource(url)` (no token: the id is the
// capability); tokens appear before the upstream has sent its last one.
const TOKEN = PLAYGROUND_TOKEN
const TOKENS = ('EventSource can only GET, so the page first POSTs the chat to the relay, ' +
  'then opens the stream it got back and reconnects by itself if the connection drops.').split(/(?<= )/)
const LAST = TOKENS.length - 1
const MIDDLE = Math.floor(TOKENS.length * 0.6)

const browser = await launchBrowser(t)
if (browser) {
  t.test('EventSource mode: tokens appear as they arrive, the reply ends done with exactly the upstream text', async (t) => {
    const up = await startUpstream(t)
    const script = scriptReply(up, TOKENS, { holdBefore: [MIDDLE, LAST] })
    const relay = await startPlaygroundRelay(t, up)
    const { page, pageErrors } = await openPage(t, browser, `${relay.url}/`)
    const calls: Array<{ method: string, url: string, type: string, authorization: string | undefined }> = []
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/v1/streams')) calls.push({ method: r.method(), url: r.url(), type: r.resourceType(), authorization: r.headers().authorization })
    })
    await configure(page, { token: TOKEN, model: 'gpt-4o-mini', mode: 'eventsource' })

    await send(page, 'Why does EventSource need two steps?')
    const early = await waitForReply(page, { startsWith: TOKENS.slice(0, 2).join('') })
    t.notOk(script.finished, 'the first tokens were on screen while the upstream was still generating')
    t.ok(early.length < TOKENS.join('').length, `a partial reply: ${JSON.stringify(early)}`)

    await waitForReply(page, { equals: TOKENS.slice(0, MIDDLE).join('') })
    t.equal(script.sent, MIDDLE, 'mid-reply, the upstream is holding the rest')
    t.equal(await replyState(page), 'streaming')
    await screenshot(page, 'playground-eventsource-midstream')
    script.release(MIDDLE)
    await waitForReply(page, { equals: TOKENS.slice(0, LAST).join('') })
    t.equal(script.sent, LAST, 'the reply grew up to the last token, which the upstream has not sent yet')
    t.equal(await replyState(page), 'streaming')

    script.release(LAST)
    t.equal(await waitForReplyEnd(page), 'done')
    t.equal(await waitForReply(page, { equals: TOKENS.join('') }), TOKENS.join(''), 'exactly the upstream text, nothing lost or doubled')
    t.equal(await page.getByTestId('status').getAttribute('data-state'), 'done')

    // The two steps, as the browser made them.
    t.equal(calls.length, 2, JSON.stringify(calls))
    t.same(calls[0], { method: 'POST', url: `${relay.url}/v1/streams`, type: 'fetch', authorization: `Bearer ${TOKEN}` })
    t.match(calls[1], { method: 'GET', url: new RegExp(`^${relay.url}/v1/streams/[\\w-]{22,}\\?format=content$`), type: 'eventsource' })
    t.equal(calls[1]?.authorization, undefined, 'the stream GET carries no token')
    t.equal(up.requests.length, 1)
    t.match(up.requests[0]?.json, { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Why does EventSource need two steps?' }] })
    await waitFor('the stream log line', () => relay.logs.some((l) => l.msg === 'stream finished'))
    t.match(relay.logs.find((l) => l.msg === 'stream finished'), { outcome: 'completed', finishReason: 'stop' })
    t.same(pageErrors, [])
  })
}
