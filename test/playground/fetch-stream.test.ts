import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/relay.js'
import { launchBrowser, openPage, configure, send, waitForReply, waitForReplyEnd, replyState, scriptReply, screenshot, PLAYGROUND_TOKEN, startPlaygroundRelay } from '../helpers/browser.js'

// SPEC §7 in a real browser, fetch mode: a new user opens the page the relay serves at `/`,
// enters a token, picks a model from /v1/models, types a prompt and watches the reply arrive
// token by token, before the upstream has even sent its last token.
const TOKEN = PLAYGROUND_TOKEN
// Words of a reply, one per upstream frame.
const TOKENS = ('The relay keeps one HTTP response open and writes each token as its own event the moment ' +
  'the model produces it, so the page renders the reply as it grows. Stop aborts the request, and the relay ' +
  'cancels the upstream generation at once.').split(/(?<= )/)
const LAST = TOKENS.length - 1
const MIDDLE = Math.floor(TOKENS.length * 0.6)

const browser = await launchBrowser(t)
if (browser) {
  t.test('fetch mode: tokens appear as they arrive, the reply ends done with exactly the upstream text', async (t) => {
    const up = await startUpstream(t)
    // The upstream pauses in the middle and before its last token until the test has looked at the page.
    const script = scriptReply(up, TOKENS, { holdBefore: [MIDDLE, LAST] })
    const relay = await startPlaygroundRelay(t, up, {}, ['gpt-4o-mini', 'gpt-4o'])
    const { page, pageErrors } = await openPage(t, browser, `${relay.url}/`)
    const posts: Array<{ url: string, authorization: string | undefined }> = []
    page.on('request', (r) => { if (r.method() === 'POST') posts.push({ url: r.url(), authorization: r.headers().authorization }) })

    t.equal(await page.getByTestId('relay-url').inputValue(), relay.url, 'served by the relay, the page talks to it')
    await configure(page, { token: TOKEN })
    t.same(await page.getByTestId('model').locator('option').evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value)),
      ['gpt-4o-mini', 'gpt-4o'], 'the picker lists /v1/models for this token')
    await configure(page, { model: 'gpt-4o-mini', mode: 'fetch' })
    t.equal(await page.evaluate(() => (globalThis as any).localStorage.getItem('llm-relay.token')), TOKEN, 'the token is kept in the browser')

    await send(page, 'How does a streamed reply reach the browser?')
    const early = await waitForReply(page, { startsWith: TOKENS.slice(0, 2).join('') })
    t.notOk(script.finished, 'the first tokens were on screen while the upstream was still generating')
    t.ok(early.length < TOKENS.join('').length, `a partial reply: ${JSON.stringify(early)}`)
    t.equal(await replyState(page), 'streaming')

    await waitForReply(page, { equals: TOKENS.slice(0, MIDDLE).join('') })
    t.equal(script.sent, MIDDLE, 'mid-reply, the upstream is holding the rest')
    t.equal(await page.getByTestId('status').getAttribute('data-state'), 'streaming')
    t.equal(await page.getByTestId('stop').isEnabled(), true, 'Stop is offered while streaming')
    await screenshot(page, 'playground-fetch-midstream')

    script.release(MIDDLE)
    await waitForReply(page, { equals: TOKENS.slice(0, LAST).join('') })
    t.equal(script.sent, LAST, 'the reply grew up to the last token, which the upstream has not sent yet')
    t.equal(await replyState(page), 'streaming')

    script.release(LAST)
    t.equal(await waitForReplyEnd(page), 'done')
    t.equal(await waitForReply(page, { equals: TOKENS.join('') }), TOKENS.join(''), 'exactly the upstream text, nothing lost or doubled')
    t.equal(await page.getByTestId('status').getAttribute('data-state'), 'done')
    t.equal(await page.getByTestId('stop').isEnabled(), false)

    t.same(posts, [{ url: `${relay.url}/v1/chat/completions?format=content`, authorization: `Bearer ${TOKEN}` }])
    t.equal(up.requests.length, 1)
    t.match(up.requests[0]?.json, { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'How does a streamed reply reach the browser?' }] })
    t.notOk(up.requests[0]?.headers.authorization, 'the client token never goes upstream')
    await waitFor('the request log line', () => relay.summaries().some((s) => s.url === '/v1/chat/completions'))
    const line = relay.summaries().find((s) => s.url === '/v1/chat/completions')
    t.match(line, { keyName: 'playground', model: 'gpt-4o-mini', format: 'content', status: 200, outcome: 'completed' })
    t.same(pageErrors, [], 'no uncaught error in the page')
  })
}
