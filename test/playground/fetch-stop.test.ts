import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay } from '../helpers/relay.js'
import { waitFor } from '../helpers/streams.js'
import { launchBrowser, openPage, configure, send, waitForReply, waitForReplyEnd, replyText, scriptReply } from '../helpers/browser.js'

// SPEC §5 and §7, fetch mode: the Stop button aborts the fetch(); the relay sees its client
// go and aborts the upstream request at once, so the generation stops being paid for.
const TOKEN = 'sk-playground-user'
// Far longer than the test: only Stop can end this reply.
const TOKENS = Array.from({ length: 300 }, (_, i) => `w${i + 1} `)

const browser = await launchBrowser(t)
if (browser) {
  t.test('fetch mode: Stop aborts the upstream request within a second and the reply ends stopped', async (t) => {
    const up = await startUpstream(t)
    const script = scriptReply(up, TOKENS)
    const relay = await startRelay(t, {
      upstreams: [{ name: 'local', baseUrl: up.baseUrl, models: ['gpt-4o-mini'] }],
      keys: [{ name: 'playground', key: TOKEN, models: ['*'] }],
    })
    const { page, pageErrors } = await openPage(t, browser, `${relay.url}/`)
    await configure(page, { token: TOKEN, model: 'gpt-4o-mini', mode: 'fetch' })

    await send(page, 'Count for me, slowly.')
    await waitForReply(page, { startsWith: 'w1 w2 w3 ' })
    t.equal(up.requests.length, 1)
    const upstreamRequest = up.requests[0]!
    let closedAfter: number | undefined
    void upstreamRequest.socketClosed.then(() => { closedAfter = performance.now() })

    const pressed = performance.now()
    await page.getByTestId('stop').click()
    t.equal(await waitForReplyEnd(page), 'stopped')
    await waitFor('the upstream socket to close', () => closedAfter !== undefined, 10_000)
    const elapsed = closedAfter! - pressed
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
