import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/relay.js'
import { startTcpProxy } from '../helpers/streams.js'
import { launchBrowser, openPage, configure, send, waitForReply, waitForReplyEnd, replyState, scriptReply, servePublic, PLAYGROUND_TOKEN, startPlaygroundRelay } from '../helpers/browser.js'

// SPEC §6 in a real browser: the page (on another origin) reads a reply over EventSource
// through a TCP proxy that the test cuts mid-stream. Chromium reconnects by itself with
// Last-Event-ID; the relay replays what the page missed and goes on live. The reply ends
// with every token exactly once, and the upstream was called once.
const TOKEN = PLAYGROUND_TOKEN
const TOKENS = Array.from({ length: 20 }, (_, i) => `t${i + 1} `)
const CUT = 10 // tokens on screen when the connection drops
const BACK = 15 // tokens generated before the page is back; the rest come live afterwards

const browser = await launchBrowser(t)
if (browser) {
  t.test('EventSource mode: a dropped connection resumes without losing or repeating a token', async (t) => {
    const site = await servePublic(t)
    const up = await startUpstream(t)
    const script = scriptReply(up, TOKENS, { holdBefore: [CUT, BACK] })
    const relay = await startPlaygroundRelay(t, up, { cors: { origins: [site] } })
    const proxy = await startTcpProxy(t, relay.port)
    const { page, pageErrors } = await openPage(t, browser, `${site}/`)
    const gets: Array<Promise<Record<string, string>>> = []
    page.on('request', (r) => { if (r.resourceType() === 'eventsource') gets.push(r.allHeaders()) })
    await configure(page, { relayUrl: proxy.url, token: TOKEN, model: 'gpt-4o-mini', mode: 'eventsource' })
    // Every text the status line shows, so a passing "reconnecting…" is not missed.
    await page.getByTestId('status').evaluate((status) => {
      const g = globalThis as any
      g.statusLog = []
      new g.MutationObserver(() => g.statusLog.push((status as any).textContent)).observe(status, { childList: true, characterData: true, subtree: true })
    })

    await send(page, 'Count to twenty.')
    await waitForReply(page, { equals: TOKENS.slice(0, CUT).join('') })
    const connections = proxy.accepted
    proxy.cutAll()
    script.release(CUT)
    await waitForReply(page, { equals: TOKENS.slice(0, BACK).join('') })
    t.equal(script.sent, BACK, 'the missed tokens came from the replay, the upstream is still holding the rest')
    t.equal(await replyState(page), 'streaming')
    t.ok(proxy.accepted > connections, 'the page came back over a new connection')

    script.release(BACK)
    t.equal(await waitForReplyEnd(page), 'done')
    t.equal(await waitForReply(page, { equals: TOKENS.join('') }), TOKENS.join(''), 'every token exactly once, in order')
    t.equal(up.requests.length, 1, 'the upstream was called once')

    const statusLog: string[] = await page.evaluate(() => (globalThis as any).statusLog)
    t.ok(statusLog.includes('reconnecting…'), 'the page said it was reconnecting')
    const headers = await Promise.all(gets)
    t.equal(headers.length, 2, 'one EventSource GET, and one reconnect')
    t.equal(headers[0]?.['last-event-id'], undefined)
    t.equal(headers[1]?.['last-event-id'], String(CUT), 'the reconnect said where the page was')
    const streamReads = () => relay.summaries().filter((s) => s.method === 'GET' && s.url.startsWith('/v1/streams/'))
    await waitFor('both GET log lines', () => streamReads().length === 2)
    t.same(streamReads().map((s) => [s.status, s.outcome]),
      [[200, 'client_aborted'], [200, 'completed']], 'the dropped read, then the resumed one')
    t.same(pageErrors, [])
  })
}
