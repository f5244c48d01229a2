import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/relay.js'
import { launchBrowser, openPage, configure, send, PLAYGROUND_TOKEN, startPlaygroundRelay, pressStop } from '../helpers/browser.js'

// A model that takes its time before the first byte (a long prompt, a cold start): Stop
// pressed while the request is still waiting for the upstream's answer must cancel it too,
// in fetch mode (the POST) and in EventSource mode (the POST /v1/streams, before any id exists).
const TOKEN = PLAYGROUND_TOKEN

const browser = await launchBrowser(t)
if (browser) {
  for (const mode of ['fetch', 'eventsource'] as const) {
    t.test(`${mode} mode: Stop before the upstream answered aborts the upstream request`, async (t) => {
      const up = await startUpstream(t)
      up.handler = () => {} // never answers: only the relay letting go ends this request
      const relay = await startPlaygroundRelay(t, up)
      const { page, pageErrors } = await openPage(t, browser, `${relay.url}/`)
      await configure(page, { token: TOKEN, model: 'gpt-4o-mini', mode })

      await send(page, 'Think hard first.')
      await waitFor('the upstream request', () => up.requests.length === 1)
      t.equal(await page.getByTestId('status').getAttribute('data-state'), 'connecting')
      const { ended, upstreamClosedMs } = await pressStop(page, up.requests[0]!)
      t.equal(ended, 'stopped')
      t.ok(upstreamClosedMs < 1000, `the upstream socket closed ${Math.round(upstreamClosedMs)} ms after Stop`)
      const path = mode === 'fetch' ? '/v1/chat/completions' : '/v1/streams'
      await waitFor('the request log line', () => relay.summaries().some((s) => s.url === path))
      t.match(relay.summaries().find((s) => s.url === path), { method: 'POST', outcome: 'client_aborted' })
      t.equal(await page.getByTestId('send').isEnabled(), true, 'the page is ready for the next message')
      t.same(pageErrors, [])
    })
  }
}
