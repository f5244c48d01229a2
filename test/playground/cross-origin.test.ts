import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { launchBrowser, openPage, configure, send, waitForReply, waitForReplyEnd, replyState, scriptReply, servePublic, PLAYGROUND_TOKEN, startPlaygroundRelay, pressStop } from '../helpers/browser.js'

// The "done when": the page served from ANOTHER origin (as a frontend's own dev
// server would serve it), pointed at the relay by hand, streams through the relay both ways
// when `cors.origins` allows that origin, and its Stop button cancels the generation; from an
// origin not allowed, the page says so instead of hanging.
const TOKEN = PLAYGROUND_TOKEN
const FIRST = ['Hello ', 'from ', 'another ', 'origin.']
const SECOND = ['And ', 'again ', 'over ', 'EventSource.']
const LONG = Array.from({ length: 300 }, (_, i) => `w${i + 1} `)

const browser = await launchBrowser(t)
if (browser) {
  t.test('allowed origin: fetch and EventSource both stream through the relay', async (t) => {
    const site = await servePublic(t)
    const up = await startUpstream(t)
    const relay = await startPlaygroundRelay(t, up, { cors: { origins: [site] } })
    t.not(site, relay.url, 'two origins')
    const { page, pageErrors } = await openPage(t, browser, `${site}/`)
    await configure(page, { relayUrl: relay.url, token: TOKEN, model: 'gpt-4o-mini', mode: 'fetch' })

    scriptReply(up, FIRST)
    await send(page, 'Hello?')
    t.equal(await waitForReplyEnd(page), 'done', 'fetch mode')
    t.equal(await waitForReply(page, { equals: FIRST.join('') }), FIRST.join(''))

    await configure(page, { mode: 'eventsource' })
    scriptReply(up, SECOND)
    await send(page, 'Once more?')
    t.equal(await waitForReplyEnd(page), 'done', 'EventSource mode')
    t.equal(await waitForReply(page, { equals: SECOND.join('') }), SECOND.join(''))

    t.equal(up.requests.length, 2)
    t.same(up.requests[1]?.json.messages, [
      { role: 'user', content: 'Hello?' }, { role: 'assistant', content: FIRST.join('') }, { role: 'user', content: 'Once more?' },
    ], 'the conversation goes along')
    // The browser really went cross-origin: it asked the relay's permission first.
    const preflights = relay.summaries().filter((s) => s.method === 'OPTIONS').map((s) => `${s.url} ${s.status}`)
    t.ok(preflights.includes('/v1/chat/completions 204') && preflights.includes('/v1/streams 204'), `preflights: ${preflights.join(', ')}`)
    t.same(pageErrors, [])
  })

  t.test('allowed origin: Stop cancels the upstream generation in either mode', async (t) => {
    const site = await servePublic(t)
    const up = await startUpstream(t)
    const relay = await startPlaygroundRelay(t, up, { cors: { origins: [site] } })
    const { page, pageErrors } = await openPage(t, browser, `${site}/`)
    await configure(page, { relayUrl: relay.url, token: TOKEN, model: 'gpt-4o-mini' })
    for (const [i, mode] of (['fetch', 'eventsource'] as const).entries()) {
      await configure(page, { mode })
      const script = scriptReply(up, LONG)
      await send(page, `Count over ${mode}.`)
      await waitForReply(page, { startsWith: 'w1 w2 ' })
      // In EventSource mode the upstream is stopped by the cross-origin DELETE (preflighted: it carries the token).
      const { ended, upstreamClosedMs } = await pressStop(page, up.requests[i]!, `${mode}: the upstream socket to close`)
      t.equal(ended, 'stopped', `${mode}: stopped`)
      t.ok(upstreamClosedMs < 1000, `${mode}: the upstream socket closed ${Math.round(upstreamClosedMs)} ms after Stop`)
      t.notOk(script.finished, `${mode}: the generation was cut short`)
    }
    t.ok(relay.summaries().some((s) => s.method === 'DELETE' && s.status === 204), 'the page cancelled its stream')
    t.same(pageErrors, [])
  })

  t.test('origin not allowed: the page shows an error, in either mode, and nothing reaches the upstream', async (t) => {
    const site = await servePublic(t)
    const up = await startUpstream(t)
    scriptReply(up, FIRST)
    const relay = await startPlaygroundRelay(t, up, { cors: { origins: ['http://127.0.0.1:5173'] } })
    const { page, pageErrors } = await openPage(t, browser, `${site}/`)
    await configure(page, { relayUrl: relay.url, token: TOKEN })
    const status = page.getByTestId('status')
    t.equal(await status.getAttribute('data-state'), 'error')
    t.match(await status.textContent(), /cannot reach .*CORS/, 'the model list says why it failed')
    t.same(await page.getByTestId('model').locator('option').allTextContents(), ['(models unavailable)'])

    // A model picked before the relay's CORS settings changed: sending must fail visibly too.
    await page.getByTestId('model').evaluate((select) => {
      const s = select as unknown as { add (o: unknown): void, value: string }
      s.add(new (globalThis as any).Option('gpt-4o-mini', 'gpt-4o-mini'))
      s.value = 'gpt-4o-mini'
    })
    for (const mode of ['fetch', 'eventsource'] as const) {
      await configure(page, { mode })
      await send(page, `Hello over ${mode}?`)
      t.equal(await waitForReplyEnd(page), 'error', `${mode}: the reply ends in an error`)
      t.equal(await replyState(page), 'error')
      t.match(await status.textContent(), /cannot reach .*CORS/, `${mode}: the status says why`)
      t.equal(await page.getByTestId('send').isEnabled(), true, `${mode}: the page is usable again`)
    }
    t.equal(up.requests.length, 0, 'the browser never let the request through')
    t.same(pageErrors, [])
  })
}
