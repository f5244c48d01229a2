import t from 'tap'
import { launchBrowser, scriptReply } from '../helpers/browser.js'
import { serveFetchEventSourcePage, openFetchEventSourcePage, runPageStream, waitForPageState } from '../helpers/fetch-event-source.js'
import { startClientRig, WEB_TOKEN, MODEL } from '../helpers/clients.js'
import { waitFor } from '../helpers/relay.js'

// A resumable POST stream (SPEC §6) as @microsoft/fetch-event-source drives it, in Chromium, on a
// page of another origin: a streamed chat POST with an Idempotency-Key whose connection drops
// mid-stream. The library retries on its own, re-POSTing with `last-event-id` (the last id it
// saw); the relay attaches that repeat to the same generation after that id, without calling
// the upstream again. The page must end with the whole text, each event once, and the stop.
//
// The cut is the page's: fetch-event-source takes a `fetch` option, and the one the page gives
// it breaks the first response after 3 events with a network error and aborts that request
// (helpers/fetch-event-source.ts), so the relay sees its client go while the generation runs on.
// The upstream is held twice, so the repeat provably has both kinds of events to deliver:
// - before token 3, until the cut: the first response had exactly events 1-3;
// - before token 8, until the repeat is answered: tokens 3-7 were stored while no one read
//   (the repeat replays them from the log), tokens 8-11 and the stop reach it live.

const body = { model: MODEL, stream: true, messages: [{ role: 'user', content: 'Tell me a story.' }] }
const tokens = ['Once ', 'upon ', 'a ', 'time, ', 'a ', 'stream ', 'was ', 'cut ', '— ', 'and ', 'résumé ', '🚀']
const CUT_AFTER = 3
const IDEMPOTENCY_KEY = 'story-7f3a9c'

const browser = await launchBrowser(t)
if (browser) {
  t.test('a cut stream is retried with last-event-id and resumed: every event once, one upstream call', async (t) => {
    const site = await serveFetchEventSourcePage(t)
    const { up, relay } = await startClientRig(t, { cors: { origins: [site] } })
    const reply = scriptReply(up, tokens, { gapMs: 10, holdBefore: [CUT_AFTER, 8] })
    const { page, pageErrors } = await openFetchEventSourcePage(t, browser, site)
    // What Chromium sent (request headers as they left the page, the library's included).
    const posts: Array<Record<string, string>> = []
    page.on('request', (request) => { if (request.method() === 'POST') posts.push(request.headers()) })

    const url = `${relay.url}/v1/chat/completions?format=content`
    const running = runPageStream(page, url, WEB_TOKEN, body, 20_000, { headers: { 'Idempotency-Key': IDEMPOTENCY_KEY }, cutAfterEvents: CUT_AFTER })
    await waitForPageState(page, 'cuts', 1)
    reply.release(CUT_AFTER)
    await waitFor('tokens 3-7 upstream, with no reader attached', () => reply.sent === 8)
    // The library's own retry (its default 1 s after the error), answered by the relay.
    await waitForPageState(page, 'responses', 2)
    reply.release(8)
    const result = await running

    t.equal(result.outcome, 'resolved', 'fetchEventSource resolved')
    t.ok(result.closed, 'onclose: the second body ended after the stop event')
    t.same(result.opens, [200, 200], 'two responses: the cut one and the resumed one')
    t.equal(result.errors.length, 1, 'onerror once (the library then retried)')
    t.match(result.errors[0], /^network error: the connection was cut after 3 events$/, 'for the cut')
    const events = result.events
    t.same(events.map((e) => e.id), tokens.map((_x, i) => String(i + 1)).concat(String(tokens.length + 1)), 'ids 1..13, each once, in order')
    t.same(events.map((e) => e.event), [...tokens.map(() => ''), 'stop'])
    t.equal(events.slice(0, -1).map((e) => JSON.parse(e.data).content).join(''), tokens.join(''), 'the whole text, exactly')
    t.strictSame(JSON.parse(events.at(-1)!.data), { finish_reason: 'stop', usage: null })

    t.equal(up.requests.length, 1, 'the upstream was called once')
    t.equal(posts.length, 2, 'the browser POSTed twice')
    t.equal(posts[0]?.['idempotency-key'], IDEMPOTENCY_KEY)
    t.equal(posts[0]?.['last-event-id'], undefined, 'the first POST has no last-event-id')
    t.equal(posts[1]?.['idempotency-key'], IDEMPOTENCY_KEY, 'the retry has the same Idempotency-Key')
    t.equal(posts[1]?.['last-event-id'], String(CUT_AFTER), 'and last-event-id: the last id the page saw')

    // The relay's side: both POSTs reached it (each after a preflight, or one cached by the
    // browser); the first was cut after its 3 events, the second delivered the other 10.
    await relay.waitForSummaries(3)
    const lines = relay.summaries()
    const relayPosts = lines.filter((s) => s.method === 'POST')
    t.same(relayPosts.map((s) => [s.url, s.status, s.outcome, s.frames]), [
      ['/v1/chat/completions', 200, 'client_aborted', CUT_AFTER],
      ['/v1/chat/completions', 200, 'completed', tokens.length + 1 - CUT_AFTER],
    ], 'two POSTs at the relay: the cut one, then the resumed one')
    t.ok(lines.every((s) => s.method === 'POST' || (s.method === 'OPTIONS' && s.status === 204)), 'nothing else but preflights')
    t.same(pageErrors, [])

    // The preflight a retry needs: both headers allowed for this origin.
    const preflight = await fetch(url, {
      method: 'OPTIONS',
      headers: { origin: site, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,idempotency-key,last-event-id' },
    })
    t.equal(preflight.status, 204)
    t.equal(preflight.headers.get('access-control-allow-origin'), site)
    const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/\s*,\s*/)
    t.ok(allowed.includes('idempotency-key') && allowed.includes('last-event-id'), `allowed: ${allowed.join(', ')}`)
  })
}
