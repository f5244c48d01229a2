import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay } from '../helpers/relay.js'
import { waitFor } from '../helpers/streams.js'
import { launchBrowser, openPage, configure, send, waitForReplyEnd } from '../helpers/browser.js'

// A model that takes its time before the first byte (a long prompt, a cold start): Stop
// pressed while the request is still waiting for the upstream's answer must cancel it too,
// in fetch mode (the POST) and in EventSource mode (the POST /v1/streams, before any id exists).
const TOKEN = 'sk-playground-user'

const browser = await launchBrowser(t)
if (browser) {
  for (const mode of ['fetch', 'eventsource'] as const) {
    t.test(`${mode} mode: Stop before the upstream answered aborts the upstream request`, async (t) => {
      const up = await startUpstream(t)
      up.handler = () => {} // never answers: only the relay letting go ends this request
      const relay = await startRelay(t, {
        upstreams: [{ name: 'local', baseUrl: up.baseUrl, models: ['gpt-4o-mini'] }],
        keys: [{ name: 'playground', key: TOKEN, models: ['*'] }],
      })
      const { page, pageErrors } = await openPage(t, browser, `${relay.url}/`)
      await configure(page, { token: TOKEN, model: 'gpt-4o-mini', mode })

      await send(page, 'Think hard first.')
      await waitFor('the upstream request', () => up.requests.length === 1)
      t.equal(await page.getByTestId('status').getAttribute('data-state'), 'connecting')
      let closedAfter: number | undefined
      void up.requests[0]!.socketClosed.then(() => { closedAfter = performance.now() })
      const pressed = performance.now()
      await page.getByTestId('stop').click()
      t.equal(await waitForReplyEnd(page), 'stopped')
      await waitFor('the upstream socket to close', () => closedAfter !== undefined, 10_000)
      t.ok(closedAfter! - pressed < 1000, `the upstream socket closed ${Math.round(closedAfter! - pressed)} ms after Stop`)
      const path = mode === 'fetch' ? '/v1/chat/completions' : '/v1/streams'
      await waitFor('the request log line', () => relay.summaries().some((s) => s.url === path))
      t.match(relay.summaries().find((s) => s.url === path), { method: 'POST', outcome: 'client_aborted' })
      t.equal(await page.getByTestId('send').isEnabled(), true, 'the page is ready for the next message')
      t.same(pageErrors, [])
    })
  }
}
