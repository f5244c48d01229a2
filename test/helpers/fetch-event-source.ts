import type { Test } from 'tap'
import { createServer } from 'node:http'
import { readFile } from 'node:fs/promises'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'

/**
 * `@microsoft/fetch-event-source` in a real browser, on a page of its own origin (a plain
 * node:http server on 127.0.0.1:0, as a frontend's dev server would be). The page loads the
 * library's ES module build straight from node_modules (no CDN, no bundler) and defines
 * `window.runStream(url, token, body)`, written as the library's README shows a page using it:
 * `onopen` throws a FatalError for a non-SSE or 4xx answer (429 aside), `onerror` rethrows a
 * FatalError and lets the library retry anything else.
 */

const LIBRARY_DIR = fileURLToPath(new URL('../../node_modules/@microsoft/fetch-event-source/lib/esm/', import.meta.url))

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>fetch-event-source</title></head>
<body>
<script type="module">
import { fetchEventSource, EventStreamContentType } from '/fetch-event-source/index.js'

class FatalError extends Error {}

window.runStream = async (url, token, body, deadlineMs) => {
  const events = []
  const opens = []
  const errors = []
  let closed = false
  try {
    await fetchEventSource(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
      body: JSON.stringify(body),
      openWhenHidden: true,
      // Bounded: a retry loop ends here (the library resolves when its signal aborts).
      signal: AbortSignal.timeout(deadlineMs),
      async onopen (response) {
        opens.push(response.status)
        const type = response.headers.get('content-type') || ''
        if (response.ok && type.startsWith(EventStreamContentType)) return
        if (response.status >= 400 && response.status < 500 && response.status !== 429) {
          throw new FatalError(response.status + ' ' + await response.text())
        }
        throw new Error('retriable: ' + response.status)
      },
      onmessage (ev) { events.push({ event: ev.event, id: ev.id, data: ev.data }) },
      onclose () { closed = true },
      onerror (err) {
        errors.push(String(err && err.message))
        if (err instanceof FatalError) throw err
      },
    })
    return { outcome: 'resolved', events, opens, errors, closed }
  } catch (err) {
    return { outcome: 'rejected', fatal: err instanceof FatalError, message: String(err && err.message), events, opens, errors, closed }
  }
}
window.fetchEventSourceReady = true
</script>
</body></html>
`

/** What `runStream` resolves with in the page. */
export interface PageStreamResult {
  outcome: 'resolved' | 'rejected'
  fatal?: boolean
  message?: string
  events: Array<{ event: string, id: string, data: string }>
  /** The status of every response `onopen` saw: one per request the library made. */
  opens: number[]
  errors: string[]
  /** `onclose` ran: the body ended. */
  closed: boolean
}

/** Serves the page at `/` and the library's files at `/fetch-event-source/*`; returns the page's origin. */
export async function serveFetchEventSourcePage (t: Test): Promise<string> {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://page').pathname
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      res.end(PAGE)
      return
    }
    // The ES build imports './parse' without an extension: what a bundler or dev server resolves.
    const file = /^\/fetch-event-source\/([a-z]+)(?:\.js)?$/.exec(path)?.[1]
    if (file === undefined) {
      res.writeHead(404).end()
      return
    }
    const source = await readFile(`${LIBRARY_DIR}${file}.js`).catch(() => undefined)
    if (source === undefined) res.writeHead(404).end()
    else res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(source)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`
}

// The page's globals; the project compiles without the DOM lib.
declare const window: {
  fetchEventSourceReady?: boolean
  runStream (url: string, token: string, body: unknown, deadlineMs: number): Promise<PageStreamResult>
}

/** The page in its own browser context (closed in teardown), once its module has loaded. */
export async function openFetchEventSourcePage (t: Test, browser: Browser, origin: string): Promise<{ page: Page, pageErrors: string[] }> {
  const context = await browser.newContext()
  t.teardown(() => context.close())
  context.setDefaultTimeout(20_000)
  const page = await context.newPage()
  const pageErrors: string[] = []
  page.on('pageerror', (err) => pageErrors.push(err.message))
  await page.goto(`${origin}/`)
  await page.waitForFunction(() => window.fetchEventSourceReady === true)
  return { page, pageErrors }
}

/** Runs fetchEventSource in the page: a POST to `url` with the bearer `token` and JSON `body`, until it settles or `deadlineMs`. */
export function runPageStream (page: Page, url: string, token: string, body: unknown, deadlineMs = 10_000): Promise<PageStreamResult> {
  return page.evaluate(([u, tk, b, d]) => window.runStream(u, tk, b, d), [url, token, body, deadlineMs] as const)
}
