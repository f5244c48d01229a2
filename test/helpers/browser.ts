import type { Test } from 'tap'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import fastifyStatic from '@fastify/static'
import { chromium, type Browser, type Page } from 'playwright-core'
import { chatChunk, SSE_HEADERS, sleep, type ReceivedRequest, type ScriptedUpstream } from './upstream.js'
import { startRelay, type RunningRelay, waitFor } from './relay.js'
import { gate } from './streams.js'
import type { RelayConfigInput } from '../../src/config/schema.js'

/**
 * Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it). Never a browser
 * downloaded by `playwright install`. RELAY_CHROMIUM_PATH points elsewhere (the
 * skip/fail test uses it to play a machine without Chromium).
 */
export const CHROMIUM_PATH = process.env.RELAY_CHROMIUM_PATH || '/usr/bin/chromium'
/** `.ci/run` sets it: there a missing browser fails the suite instead of skipping these tests. */
export const BROWSER_REQUIRED = process.env.RELAY_REQUIRE_BROWSER === '1'
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))
export const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url))

// Quiet and offline: no update checks, sync or QUIC probes from the browser while a test runs.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic']

/**
 * One Chromium for the whole test file, closed in teardown. Playwright gives each launch a
 * fresh temporary user-data-dir and deletes it on close. Without Chromium the file is
 * skipped with one line (undefined is returned), unless RELAY_REQUIRE_BROWSER=1, where it fails.
 * A Chromium that is there but does not start always fails.
 */
export async function launchBrowser (t: Test): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM_PATH)) {
    const missing = `Chromium not found at ${CHROMIUM_PATH}`
    if (BROWSER_REQUIRED) t.fail(`${missing} and RELAY_REQUIRE_BROWSER=1: install it (apt-get install chromium)`)
    else t.plan(0, `${missing}: browser tests skipped (apt-get install chromium)`)
    return undefined
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 })
  t.teardown(() => browser.close())
  return browser
}

export interface PlaygroundPage {
  page: Page
  /** Uncaught exceptions in the page: a bug in the page whatever the test checks. */
  pageErrors: string[]
}

/**
 * A page in its own browser context (its own localStorage, so tests never share saved
 * settings), 1000×700, closed in teardown. Waits are generous: the machine may be loaded.
 */
export async function openPage (t: Test, browser: Browser, url: string): Promise<PlaygroundPage> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } })
  t.teardown(() => context.close())
  context.setDefaultTimeout(20_000)
  const page = await context.newPage()
  const pageErrors: string[] = []
  page.on('pageerror', (err) => pageErrors.push(err.message))
  await page.goto(url)
  await waitForModelsLoaded(page)
  return { page, pageErrors }
}

/** The model picker is disabled while /v1/models is being read (whatever the answer). */
export async function waitForModelsLoaded (page: Page): Promise<void> {
  await page.waitForSelector('[data-testid="model"]:not([disabled])', { state: 'attached' })
}

/**
 * What a user does before the first message: the relay URL (when the page is not served by
 * the relay), the token, then the model and the streaming mode. A field is committed the way
 * a person does it, by leaving it (Tab), which is when the page saves it and reloads models.
 */
export async function configure (page: Page, settings: { relayUrl?: string, token?: string, model?: string, mode?: 'fetch' | 'eventsource' }): Promise<void> {
  for (const [id, value] of [['relay-url', settings.relayUrl], ['token', settings.token]] as const) {
    if (value === undefined) continue
    await page.getByTestId(id).fill(value)
    await page.getByTestId(id).press('Tab')
    await waitForModelsLoaded(page)
  }
  if (settings.model !== undefined) {
    await page.waitForSelector(`[data-testid="model"] option[value="${settings.model}"]`, { state: 'attached' })
    await page.getByTestId('model').selectOption(settings.model)
  }
  if (settings.mode !== undefined) await page.getByTestId('mode').selectOption(settings.mode)
}

/** Types the prompt and presses Send. */
export async function send (page: Page, prompt: string): Promise<void> {
  await page.getByTestId('prompt').fill(prompt)
  await page.getByTestId('send').click()
}

const REPLY = '[data-testid="assistant-message"]'

// The functions given to waitForFunction run in the page; the project compiles without the DOM lib.
interface PageElement { textContent: string | null, getAttribute (name: string): string | null, querySelector (s: string): PageElement | null }
declare const document: { querySelectorAll (selector: string): Iterable<PageElement> }

/** The reply's own text (the newest bubble's `.content`, without its label and notes). */
export async function replyText (page: Page): Promise<string> {
  return (await page.locator(REPLY).last().locator('.content').textContent()) ?? ''
}

export async function replyState (page: Page): Promise<string | null> {
  return page.locator(REPLY).last().getAttribute('data-state')
}

/** Waits until the newest reply's text passes `check` (polled in the page; the text only grows). */
export async function waitForReply (page: Page, check: { startsWith: string } | { equals: string }): Promise<string> {
  await page.waitForFunction(([selector, c]) => {
    const text = [...document.querySelectorAll(selector)].at(-1)?.querySelector('.content')?.textContent
    if (typeof text !== 'string') return false
    return 'equals' in c ? text === c.equals : text.startsWith(c.startsWith)
  }, [REPLY, check] as const, { polling: 20 })
  return replyText(page)
}

/** Waits until the newest reply left `streaming`, and returns the state it ended in. */
export async function waitForReplyEnd (page: Page): Promise<string | null> {
  await page.waitForFunction((selector) => {
    const state = [...document.querySelectorAll(selector)].at(-1)?.getAttribute('data-state')
    return typeof state === 'string' && state !== 'streaming'
  }, REPLY, { polling: 20 })
  return replyState(page)
}

/** Saves a PNG under test-artifacts/ (gitignored) and returns its path. */
export async function screenshot (page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true })
  const path = `${ARTIFACTS}${name}.png`
  await page.screenshot({ path })
  return path
}

/**
 * The page's files from a second origin (a plain static server on 127.0.0.1:0, as a
 * frontend's dev server would be): there the page must be pointed at the relay by hand.
 */
export async function servePublic (t: Test): Promise<string> {
  const app = Fastify()
  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/', index: 'index.html' })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
}

export interface ScriptedReply {
  /** Tokens written so far. */
  sent: number
  /** True once the finish frame and [DONE] were written. */
  finished: boolean
  /** Lets the upstream go on past the hold before token `index`. */
  release (index: number): void
}

/**
 * Scripts `up` to stream `tokens` as OpenAI chunks `gapMs` apart (slow enough to watch a
 * reply grow), waiting before each index of `holdBefore` until the test releases it, so a
 * test can look at the page while the upstream provably has not sent the rest.
 * Stops writing as soon as the relay goes away.
 */
export function scriptReply (up: ScriptedUpstream, tokens: string[], options: { gapMs?: number, holdBefore?: number[] } = {}): ScriptedReply {
  const holds = new Map((options.holdBefore ?? []).map((i) => [i, gate()]))
  const reply: ScriptedReply = { sent: 0, finished: false, release: (i) => holds.get(i)?.open() }
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(`data: ${chatChunk('')}\n\n`) // the role-only first chunk OpenAI sends
    for (const [i, token] of tokens.entries()) {
      await holds.get(i)?.opened
      if (res.destroyed) return
      res.write(`data: ${chatChunk(token)}\n\n`)
      reply.sent++
      await sleep(options.gapMs ?? 150)
    }
    if (res.destroyed) return
    res.end(`data: ${chatChunk(null, { finish: 'stop' })}\n\ndata: [DONE]\n\n`)
    reply.finished = true
  }
  return reply
}

/** The token the playground tests type into the page. */
export const PLAYGROUND_TOKEN = 'sk-playground-user'

/** The relay the playground tests talk to: `up` serving `models`, one key for PLAYGROUND_TOKEN, plus `extra` (e.g. CORS). */
export function startPlaygroundRelay (t: Test, up: ScriptedUpstream, extra: RelayConfigInput = {}, models = ['gpt-4o-mini']): Promise<RunningRelay> {
  return startRelay(t, {
    upstreams: [{ name: 'local', baseUrl: up.baseUrl, models }],
    keys: [{ name: 'playground', key: PLAYGROUND_TOKEN, models: ['*'] }],
    ...extra,
  })
}

/** Presses Stop: how the reply ended, and how many ms after the press the upstream request's socket closed. */
export async function pressStop (page: Page, upstreamRequest: ReceivedRequest, label = 'the upstream socket to close'): Promise<{ ended: string | null, upstreamClosedMs: number }> {
  let closedAfter: number | undefined
  void upstreamRequest.socketClosed.then(() => { closedAfter = performance.now() })
  const pressed = performance.now()
  await page.getByTestId('stop').click()
  const ended = await waitForReplyEnd(page)
  await waitFor(label, () => closedAfter !== undefined, 10_000)
  return { ended, upstreamClosedMs: (closedAfter as number) - pressed }
}
