import type { ServerResponse } from 'node:http'
import type { RunningRelay } from './relay.js'
import { NATIVE_EVENTS, RESPONSE_ID, responsesFrame } from './responses-upstream.js'
import { sleep } from './upstream.js'

/**
 * Requests and upstream scripts for the Responses API tests (SPEC §5.1): a
 * `POST /v1/responses` body, the native fixture (helpers/responses-upstream.ts)
 * cut short in the ways a stream breaks, and an endless native stream for
 * the disconnect tests.
 */

/** A Responses request as the SDK sends it. */
export function responsesBody (model: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model, input: 'Say hello, then look up the weather in Paris', stream: true, ...extra }
}

/** POSTs `body` to the relay's /v1/responses (with `?format=` when given). */
export function postResponses (relay: RunningRelay, body: Record<string, unknown>, options: { format?: string, token?: string, signal?: AbortSignal } = {}): Promise<Response> {
  const query = options.format === undefined ? '' : `?format=${options.format}`
  return fetch(`${relay.url}/v1/responses${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }) },
    body: JSON.stringify(body),
    signal: options.signal,
  })
}

/** The fixture's first `count` events as the relay passes them on. */
export function nativePrefix (count: number): string {
  return NATIVE_EVENTS.slice(0, count).map(([name, fields], i) => responsesFrame(name, fields, i)).join('')
}

/** The Response object of the fixture's `response.completed` (what a non-streamed create answers). */
export function completedResponse (): Record<string, unknown> {
  const last = NATIVE_EVENTS.at(-1)!
  return last[1].response as Record<string, unknown>
}

/** How a scripted native stream ends after its first events. */
export type NativeCut = 'reset' | 'end' | 'hang' | { event: string, data: Record<string, unknown> }

/**
 * Writes the fixture's first `count` events, then: `reset` destroys the socket, `end` closes the
 * body cleanly (a stream with no final event), `hang` sends nothing more (bounded: 10 s), or one
 * more event (the upstream's own `error` or `response.failed`) and the end.
 */
export async function writeNativeCut (res: ServerResponse, count: number, cut: NativeCut): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' })
  res.write(nativePrefix(count))
  await sleep(20)
  if (cut === 'reset') {
    res.socket?.destroy()
  } else if (cut === 'end') {
    res.end()
  } else if (cut === 'hang') {
    for (let waited = 0; waited < 10_000 && !res.destroyed; waited += 20) await sleep(20)
  } else {
    res.end(responsesFrame(cut.event, cut.data, count))
  }
}

export interface EndlessNative {
  /** Deltas written so far. */
  sent: number
}

/** A native stream that never finishes: `response.created`, then a `tickN ` text delta every `gapMs` until the relay goes away (bounded). */
export function endlessNativeHandler (gapMs = 20): { reply: EndlessNative, handler: (req: unknown, res: ServerResponse) => Promise<void> } {
  const reply: EndlessNative = { sent: 0 }
  return {
    reply,
    handler: async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' })
      const [name, fields] = NATIVE_EVENTS[0]!
      res.write(responsesFrame(name, fields, 0))
      for (let i = 1; i <= 1000 && !res.destroyed; i++) {
        res.write(responsesFrame('response.output_text.delta', { item_id: 'msg_01', output_index: 0, content_index: 0, delta: `tick${i} `, logprobs: [] }, i))
        reply.sent = i
        await sleep(gapMs)
      }
      res.end()
    },
  }
}

export { RESPONSE_ID }

/** The fixture without its function call: reasoning, then the answer, then `response.completed` with those two items (for clients that would run the call). */
export function textOnlyEvents (): Array<[string, Record<string, unknown>]> {
  const completed = completedResponse()
  const output = (completed.output as Array<{ type: string }>).filter((item) => item.type !== 'function_call')
  return [...NATIVE_EVENTS.slice(0, 17), ['response.completed', { response: { ...completed, output } }]]
}
