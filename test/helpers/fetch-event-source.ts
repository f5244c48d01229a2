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
 * `window.runStream(url, token, body, deadlineMs, options)`, written as the library's README
 * shows a page using it: `onopen` throws a FatalError for a non-SSE or 4xx answer (429 aside),
 * `onerror` rethrows a FatalError and lets the library retry anything else (after its 1 s).
 *
 * `options.headers` go with every request (an `Idempotency-Key`); `options.cutAfterEvents`
 * gives the library a `fetch` (its `fetch` option) whose FIRST response breaks as a dropped
 * connection does: the body delivers that many whole events, then errors with a network
 * TypeError, and the request is aborted so the connection to the relay closes. The library
 * then retries as it would for real, with `last-event-id` set from the last id it saw.
 * `window.streamState` counts the fetches, the cut and the responses for the test to watch.
 */

const LIBRARY_DIR = fileURLToPath(new URL('../../node_modules/@microsoft/fetch-event-source/lib/esm/', import.meta.url))

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>fetch-event-source</title></head>
<body>
<script type="module">
import { fetchEventSource, EventStreamContentType } from '/fetch-event-source/index.js'

class FatalError extends Error {}

window.streamState = { fetches: 0, responses: 0, cuts: 0 }

// The first response ends in a network error after \`afterEvents\` whole events (blocks with data):
// what the library sees when a connection drops mid-stream. Its request is aborted too, so the
// relay sees the connection close.
function cuttingFetch (afterEvents) {
  const state = window.streamState
  return async (input, init) => {
    const n = ++state.fetches
    const own = new AbortController()
    init.signal?.addEventListener('abort', () => own.abort(init.signal.reason))
    const response = await fetch(input, { ...init, signal: own.signal })
    state.responses++
    if (n > 1 || !response.ok || !response.body) return response
    const reader = response.body.getReader()
    const decoder = new TextDecoder()
    const encoder = new TextEncoder()
    let text = ''
    let events = 0
    const body = new ReadableStream({
      // A pull must enqueue (or end) before it returns, or the stream stalls: read until it can.
      async pull (controller) {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) { controller.close(); return }
          text += decoder.decode(value, { stream: true })
          let out = ''
          for (let end; (end = text.indexOf('\\n\\n')) >= 0;) {
            const block = text.slice(0, end + 2)
            text = text.slice(end + 2)
            out += block
            if (/^data:/m.test(block) && ++events === afterEvents) {
              controller.enqueue(encoder.encode(out))
              state.cuts++
              own.abort(new Error('cut by the test'))
              controller.error(new TypeError('network error: the connection was cut after ' + afterEvents + ' events'))
              return
            }
          }
          if (out) { controller.enqueue(encoder.encode(out)); return }
        }
      },
      cancel (reason) { return reader.cancel(reason) },
    })
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers })
  }
}

window.runStream = async (url, token, body, deadlineMs, options = {}) => {
  const events = []
  const opens = []
  const errors = []
  let closed = false
  try {
    await fetchEventSource(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token, ...options.headers },
      body: JSON.stringify(body),
      openWhenHidden: true,
      ...(options.cutAfterEvents ? { fetch: cuttingFetch(options.cutAfterEvents) } : {}),
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

/** What `runStream` may add: headers for every request, and a cut of the first response after this many events. */
export interface PageStreamOptions {
  headers?: Record<string, string>
  cutAfterEvents?: number
}

/** The page's counters while a cutting `runStream` runs (see above). */
export interface PageStreamState {
  /** Requests the library made through the cutting fetch. */
  fetches: number
  /** Their responses (headers) that arrived. */
  responses: number
  /** 1 once the first response was cut. */
  cuts: number
}

// The page's globals; the project compiles without the DOM lib.
declare const window: {
  fetchEventSourceReady?: boolean
  streamState: PageStreamState
  runStream (url: string, token: string, body: unknown, deadlineMs: number, options?: PageStreamOptions): Promise<PageStreamResult>
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
export function runPageStream (page: Page, url: string, token: string, body: unknown, deadlineMs = 10_000, options: PageStreamOptions = {}): Promise<PageStreamResult> {
  return page.evaluate(([u, tk, b, d, o]) => window.runStream(u, tk, b, d, o), [url, token, body, deadlineMs, options] as const)
}

/** The page's `streamState` now. */
export function pageStreamState (page: Page): Promise<PageStreamState> {
  return page.evaluate(() => ({ ...window.streamState }))
}

/** Waits (polled in the page, bounded by the context's timeout) until `streamState[field]` reaches `count`. */
export async function waitForPageState (page: Page, field: keyof PageStreamState, count: number): Promise<void> {
  await page.waitForFunction(([f, n]) => window.streamState[f] >= n, [field, count] as const, { polling: 20 })
}
