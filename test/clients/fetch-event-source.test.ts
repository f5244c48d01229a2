import t from 'tap'
import { launchBrowser } from '../helpers/browser.js'
import { serveFetchEventSourcePage, openFetchEventSourcePage, runPageStream } from '../helpers/fetch-event-source.js'
import { startClientRig, scriptFrames, reasoningFrames, WEB_TOKEN, MODEL } from '../helpers/clients.js'
import { waitFor } from '../helpers/relay.js'
import { sleep } from '../helpers/upstream.js'

// @microsoft/fetch-event-source in Chromium, on a page of ANOTHER origin than the relay (the
// relay allows it through cors.origins): a streamed chat POST with the bearer token read as
// `content` events to the end; a wrong token's 401 is fatal in the page's onopen, with no retry.

const body = { model: MODEL, stream: true, messages: [{ role: 'user', content: 'hi' }] }

const browser = await launchBrowser(t)
if (browser) {
  t.test('content events to the end, cross-origin: reasoning, exact text, stop', async (t) => {
    const site = await serveFetchEventSourcePage(t)
    const { up, relay } = await startClientRig(t, { cors: { origins: [site] } })
    t.not(site, relay.url, 'two origins')
    const thinking = ['Plan: ', 'greet.']
    const answer = ['Hello ', 'from ', 'the ', 'relay ', '— ', 'ünïcödé ', '🚀']
    scriptFrames(up, reasoningFrames(thinking, answer), { usage: [3, 9], gapMs: 10 })
    const { page, pageErrors } = await openFetchEventSourcePage(t, browser, site)

    const result = await runPageStream(page, `${relay.url}/v1/chat/completions?format=content`, WEB_TOKEN, body)
    t.equal(result.outcome, 'resolved', 'fetchEventSource resolved')
    t.ok(result.closed, 'onclose: the body ended after the stop event')
    t.same(result.opens, [200], 'one request')
    t.same(result.errors, [], 'no error, so no retry')
    const events = result.events
    const texts = (name: string) => events.filter((e) => e.event === name).map((e) => JSON.parse(e.data).content)
    t.same(texts('reasoning'), thinking, 'reasoning events')
    t.equal(texts('').join(''), answer.join(''), 'the answer, exactly, from the default (message) events')
    t.same(texts(''), answer, 'one event per delta')
    t.same(events.map((e) => e.event), [...thinking.map(() => 'reasoning'), ...answer.map(() => ''), 'stop'])
    t.same(events.map((e) => e.id), events.map((_e, i) => String(i + 1)), 'ids 1..N')
    t.strictSame(JSON.parse(events.at(-1)!.data), { finish_reason: 'stop', usage: { prompt_tokens: 3, completion_tokens: 9, total_tokens: 12 } })

    t.equal(up.requests.length, 1)
    const lines = relay.summaries().map((s) => `${s.method} ${s.url} ${s.status}`)
    t.same(lines, ['OPTIONS /v1/chat/completions 204', 'POST /v1/chat/completions 200'], 'the browser asked the relay\'s permission first (preflight), then POSTed once')
    t.same(pageErrors, [])
  })

  // Found by this test: a POST 401 once carried no Access-Control-Allow-Origin (the token was checked
  // in an onRequest hook that ended the chain before @fastify/cors's). The browser then reported a
  // CORS failure instead of the 401, onopen never ran, and the library retried every second.
  t.test('a wrong token: the 401 reaches onopen, which treats it as fatal; one POST, no retry loop', async (t) => {
    const site = await serveFetchEventSourcePage(t)
    const { up, relay } = await startClientRig(t, { cors: { origins: [site] } })
    const { page, pageErrors } = await openFetchEventSourcePage(t, browser, site)

    const result = await runPageStream(page, `${relay.url}/v1/chat/completions?format=content`, 'sk-not-a-relay-token', body, 5_000)
    t.equal(result.outcome, 'rejected', 'fetchEventSource rejected')
    t.equal(result.fatal, true, 'with the FatalError thrown in onopen')
    t.same(result.opens, [401], `onopen saw the 401, readable cross-origin (errors: ${result.errors.join(' | ') || 'none'})`)
    t.match(result.message, /^401 \{"error":\{"message":"Invalid API key"/, 'the relay\'s JSON envelope was readable')
    t.equal(result.errors.length, 1, 'onerror ran once, and rethrew')
    t.same(result.events, [])

    const posts = () => relay.summaries().filter((s) => s.method === 'POST')
    await waitFor('the POST\'s summary line', () => posts().length >= 1)
    // The library's retry timer is 1 s by default: watch a little longer than that for a second POST.
    await sleep(1_500)
    t.same(posts().map((s) => [s.status, s.outcome]), [[401, 'rejected']], `exactly one POST reached the relay (${posts().length})`)
    t.equal(up.requests.length, 0, 'nothing went upstream')
    t.same(pageErrors, [])
  })
}
