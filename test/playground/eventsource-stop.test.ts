import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/relay.js'
import { launchBrowser, openPage, configure, send, waitForReply, replyText, scriptReply, PLAYGROUND_TOKEN, startPlaygroundRelay, pressStop } from '../helpers/browser.js'

// SPEC §6 and §7, EventSource mode: Stop closes the EventSource and sends DELETE
// /v1/streams/:id; the relay aborts the upstream request at once (closing the EventSource
// alone would only detach the reader, and the generation would run on for detachTimeoutMs).
const TOKEN = PLAYGROUND_TOKEN
const TOKENS = Array.from({ length: 300 }, (_, i) => `w${i + 1} `)

const browser = await launchBrowser(t)
if (browser) {
  t.test('EventSource mode: Stop aborts the upstream request within a second and the reply ends stopped', async (t) => {
    const up = await startUpstream(t)
    const script = scriptReply(up, TOKENS)
    const relay = await startPlaygroundRelay(t, up)
    const { page, pageErrors } = await openPage(t, browser, `${relay.url}/`)
    const deletes: Array<{ url: string, authorization: string | undefined }> = []
    page.on('request', (r) => { if (r.method() === 'DELETE') deletes.push({ url: r.url(), authorization: r.headers().authorization }) })
    await configure(page, { token: TOKEN, model: 'gpt-4o-mini', mode: 'eventsource' })

    await send(page, 'Count for me, slowly.')
    await waitForReply(page, { startsWith: 'w1 w2 w3 ' })
    t.equal(up.requests.length, 1)

    const { ended, upstreamClosedMs: elapsed } = await pressStop(page, up.requests[0]!)
    t.equal(ended, 'stopped')
    t.ok(elapsed < 1000, `the upstream socket closed ${Math.round(elapsed)} ms after Stop was pressed`)
    t.ok(!script.finished && script.sent < TOKENS.length, `the generation was cut short (${script.sent} tokens sent)`)

    const kept = await replyText(page)
    t.equal(kept, TOKENS.slice(0, kept.split(' ').length - 1).join(''), 'what arrived before Stop stays, in order')
    t.equal(await page.getByTestId('status').getAttribute('data-state'), 'stopped')
    t.equal(await page.getByTestId('send').isEnabled(), true, 'the page is ready for the next message')

    // The page cancelled the generation itself, with the stream's capability URL.
    await waitFor('the DELETE log line', () => relay.summaries().some((s) => s.method === 'DELETE'))
    t.equal(deletes.length, 1)
    t.match(deletes[0]?.url, new RegExp(`^${relay.url}/v1/streams/[\\w-]{22,}$`))
    t.match(relay.summaries().find((s) => s.method === 'DELETE'), { status: 204, outcome: 'completed' })
    await waitFor('the stream log line', () => relay.logs.some((l) => l.msg === 'stream finished'))
    // The generation's line. (The GET's own line races: closed first it says client_aborted,
    // reached first by the DELETE's error event it says upstream_error.)
    t.match(relay.logs.find((l) => l.msg === 'stream finished'), { outcome: 'client_aborted', error: 'The stream was cancelled' })
    t.equal(up.requests.length, 1, 'nothing restarted the generation')
    t.same(pageErrors, [])
  })
}
