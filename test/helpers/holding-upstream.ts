import type { Test } from 'tap'
import { startUpstream, chatChunk, streamFrames, SSE_HEADERS, type ScriptedUpstream } from './upstream.js'

export interface HoldingUpstream extends ScriptedUpstream {
  /** Streams the upstream is holding open right now, oldest first. */
  held (): number
  /** Finishes the oldest held stream (its last frame and [DONE]). */
  finishOldest (): void
  /** Finishes every held stream. */
  finishAll (): void
}

/**
 * An upstream whose streamed answers send one frame and then stay open until
 * the test finishes them, so a stream's slot is held as long as the test
 * wants; plain (non-streamed) requests are answered at once.
 */
export async function startHoldingUpstream (t: Test): Promise<HoldingUpstream> {
  const holds: Array<() => void> = []
  const up = await startUpstream(t, async (_req, res, received) => {
    if (received.json?.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: 'gpt-test', choices: [] }))
      return
    }
    res.writeHead(200, SSE_HEADERS)
    res.write(`data: ${chatChunk('first')}\n\n`)
    await new Promise<void>((resolve) => holds.push(resolve))
    await streamFrames(res, [chatChunk('last', { finish: 'stop' })])
  })
  const holding = Object.assign(up, {
    held: () => holds.length,
    finishOldest: () => { holds.shift()?.() },
    finishAll: () => { for (const release of holds.splice(0)) release() },
  })
  // Whatever a test left open is let go at its end.
  t.teardown(() => holding.finishAll())
  return holding
}
