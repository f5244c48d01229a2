import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/relay.js'
import { launchBrowser, openPage, configure, send, waitForReply, replyText, scriptReply, PLAYGROUND_TOKEN, startPlaygroundRelay, pressStop } from '../helpers/browser.js'

// SPEC §5 and §7, fetch mode: the Stop button aborts the fetch(); the relay sees its client
// go and aborts the upstream request at once, so the generation stops being paid for.
const TOKEN = PLAYGROUND_TOKEN
// Far longer than the test: only Stop can end this reply.
const TOKENS = Array.from({ length: 300 }, (_, i) => `w${i + 1} `)

const browser = await launchBrowser(t)
if (browser) {
  t.test('fetch mode: Stop aborts the upstream request within a second and the reply ends stopped', async (t) => {
    const up = await startUpstream(t)
    const script = scriptReply(up, TOKENS)
    const relay = await startPlaygroundRelay(t, up)
    const { page, pageErrors } = await openPage(t, browser, `${relay.url}/`)
    await configure(page, { token: TOKEN, model: 'gpt-4o-mini', mode: 'fetch' })

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
    t.equal(await page.getByTestId('stop').isEnabled(), false)

    await waitFor('the request log line', () => relay.summaries().some((s) => s.url === '/v1/chat/completions'))
    t.match(relay.summaries().find((s) => s.url === '/v1/chat/completions'), { method: 'POST', status: 200, outcome: 'client_aborted' })
    t.equal(up.requests.length, 1, 'nothing retried the generation')
    t.same(pageErrors, [])
  })
}
