import t from 'tap'
import type { Page } from 'playwright-core'
import { startUpstream, SSE_HEADERS, sleep, type ScriptedUpstream } from '../helpers/upstream.js'
import { gate } from '../helpers/streams.js'
import { callArgs, callStart, deltaChunk, toolCallsFinish, toolChunk } from '../helpers/deltas.js'
import { launchBrowser, openPage, configure, send, waitForReply, waitForReplyEnd, replyState, replyText, screenshot, PLAYGROUND_TOKEN, startPlaygroundRelay } from '../helpers/browser.js'

// SPEC §7 in a real browser, in both streaming modes: the model's reasoning is shown apart from
// the answer, open while it streams and folded once the answer begins; each tool call is shown
// as soon as it is complete, before the reply ends.
const REASONING = ['The user asks', ' about Paris;', ' I should check\n', 'the weather <first>.']
const ANSWER = ['Let me', ' check', ' that.']
const WEATHER = 'tool call: get_weather({"city":"Paris"})'
const TIME = 'tool call: get_time({"tz":"CET"})'

interface Script { sent: string[], answering: () => void, secondCall: () => void }

/** Reasoning deltas, a hold, the answer and a first tool call (complete once the second starts), a hold, the second call, the finish. */
function scriptModel (up: ScriptedUpstream): Script {
  const answering = gate()
  const secondCall = gate()
  const script: Script = { sent: [], answering: answering.open, secondCall: secondCall.open }
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    const write = async (name: string, frame: string) => {
      if (res.destroyed) return
      res.write(`data: ${frame}\n\n`)
      script.sent.push(name)
      await sleep(40)
    }
    await write('role', deltaChunk({ role: 'assistant', content: null, reasoning_content: '' }))
    for (const r of REASONING) await write('reasoning', deltaChunk({ content: null, reasoning_content: r }))
    await answering.opened
    for (const a of ANSWER) await write('answer', deltaChunk({ content: a, reasoning_content: null }))
    await write('call', toolChunk(callStart(0, 'call_w1', 'get_weather')))
    await write('call', toolChunk(callArgs(0, '{"city":')))
    await write('call', toolChunk(callArgs(0, '"Paris"}')))
    await write('call', toolChunk(callStart(1, 'call_t2', 'get_time')))
    await secondCall.opened
    await write('call', toolChunk(callArgs(1, '{"tz":"CET"}')))
    await write('finish', toolCallsFinish)
    res.end('data: [DONE]\n\n')
  }
  return script
}

const REPLY = '[data-testid="assistant-message"]'

// The functions given to waitForFunction run in the page; the project compiles without the DOM lib.
interface PageElement { textContent: string | null, querySelector (s: string): PageElement | null, querySelectorAll (s: string): Iterable<PageElement> }
declare const document: { querySelectorAll (selector: string): Iterable<PageElement> }

/** What the newest reply shows: its reasoning box (text, open, summary), its answer, its tool-call blocks. */
async function shown (page: Page) {
  const reply = page.locator(REPLY).last()
  const box = reply.getByTestId('reasoning')
  const hasBox = await box.count() === 1
  return {
    reasoning: hasBox ? await box.locator('.reasoning-text').textContent() : null,
    open: hasBox ? await box.evaluate((d) => (d as unknown as { open: boolean }).open) : null,
    summary: hasBox ? await box.locator('summary').textContent() : null,
    answer: await replyText(page),
    toolCalls: await reply.getByTestId('tool-call').allTextContents(),
  }
}

/** Waits until the newest reply's `selector` (within it) has exactly this text (polled in the page). */
async function waitForText (page: Page, selector: string, text: string): Promise<void> {
  await page.waitForFunction(([reply, inner, wanted]) => {
    const el = [...document.querySelectorAll(reply)].at(-1)?.querySelector(inner)
    return el?.textContent === wanted
  }, [REPLY, selector, text] as const, { polling: 20 })
}

/** Waits until the newest reply shows `n` tool-call blocks. */
async function waitForToolCalls (page: Page, n: number): Promise<void> {
  await page.waitForFunction(([reply, count]) => {
    const el = [...document.querySelectorAll(reply)].at(-1)
    return el !== undefined && [...el.querySelectorAll('[data-testid="tool-call"]')].length === count
  }, [REPLY, n] as const, { polling: 20 })
}

const browser = await launchBrowser(t)
if (browser) {
  for (const mode of ['fetch', 'eventsource'] as const) {
    t.test(`${mode} mode: reasoning apart and folded once the answer begins; tool calls as they complete`, async (t) => {
      const up = await startUpstream(t)
      const script = scriptModel(up)
      const relay = await startPlaygroundRelay(t, up)
      const { page, pageErrors } = await openPage(t, browser, `${relay.url}/`)
      await configure(page, { token: PLAYGROUND_TOKEN, model: 'gpt-4o-mini', mode })
      await send(page, 'Weather in Paris?')

      // The reasoning streams in, in its own open box, while the upstream holds the answer back.
      await waitForText(page, '[data-testid="reasoning"] .reasoning-text', REASONING.join(''))
      t.same(await shown(page), { reasoning: REASONING.join(''), open: true, summary: 'Thinking…', answer: '', toolCalls: [] }, 'reasoning shown apart, open, no answer yet')
      t.equal(script.sent.filter((s) => s === 'answer').length, 0, 'the upstream has not sent the answer yet')
      t.equal(await replyState(page), 'streaming')
      await screenshot(page, `playground-${mode}-reasoning`)

      // The answer begins: the reasoning folds, its text kept exactly; the answer has none of it.
      script.answering()
      await waitForToolCalls(page, 1)
      t.same(await shown(page), { reasoning: REASONING.join(''), open: false, summary: 'Reasoning', answer: ANSWER.join(''), toolCalls: [WEATHER] },
        'folded once the answer began; the first call shown once complete')
      t.notOk(script.sent.includes('finish'), 'the first call was on screen before the upstream finished')
      t.equal(await replyState(page), 'streaming')

      // A reader may open the folded reasoning again.
      await page.locator(REPLY).last().getByTestId('reasoning').locator('summary').click()
      t.equal((await shown(page)).open, true)

      script.secondCall()
      t.equal(await waitForReplyEnd(page), 'done')
      t.same(await shown(page), { reasoning: REASONING.join(''), open: true, summary: 'Reasoning', answer: ANSWER.join(''), toolCalls: [WEATHER, TIME] })
      t.equal(await waitForReply(page, { equals: ANSWER.join('') }), ANSWER.join(''))
      t.match(await page.locator(REPLY).last().locator('.meta').textContent(), /^finish: tool_calls/)
      await screenshot(page, `playground-${mode}-tool-calls`)
      t.equal(up.requests.length, 1)
      t.same(pageErrors, [], 'no uncaught error in the page')
    })
  }
}
