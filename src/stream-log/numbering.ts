import { FORMATS } from '../formats/index.js'
import type { FrameFormat, StreamEvent } from '../formats/types.js'
import type { FormatIds } from './store.js'

/** The formats an EventSource can read: those that render stored events (not `text`). */
export const EVENT_FORMATS: readonly FrameFormat[] = Object.values(FORMATS).filter((f: FrameFormat) => f.renderEvent !== undefined)

/** Their names, for `?format=` checks and messages. */
export const EVENT_FORMAT_NAMES: readonly string[] = EVENT_FORMATS.map((f) => f.name)

/**
 * Numbers a stream's events per format, as the producer appends them.
 *
 * SPEC §5 gives `content` events the ids 1, 2, 3, …, and a reader resumes
 * with the last id it saw. A stored event does not show in every format (the
 * role-only first chunk is an `openai` frame but no `content` event), so one
 * shared number per stored event would leave gaps in some formats. Instead
 * each event carries, for every event format, how many events up to and
 * including it that format shows: that count is its `id:` there when it
 * shows, and it maps a Last-Event-ID back to a stored position (the events
 * numbered at most n form a prefix, the counts never decrease).
 *
 * Whether a format shows an event is asked of the format's own renderEvent,
 * the same function the reader writes with, so numbering and rendering
 * cannot disagree. It runs once per event per format, at append time
 * (the streams flow, not the relay's hot path).
 */
export function createNumbering (formats: readonly FrameFormat[] = EVENT_FORMATS): (event: StreamEvent) => FormatIds {
  const counts: Record<string, number> = Object.fromEntries(formats.map((f) => [f.name, 0]))
  return (event) => {
    for (const f of formats) {
      const render = f.renderEvent as NonNullable<FrameFormat['renderEvent']>
      if (render(event, 0) !== undefined) counts[f.name] = (counts[f.name] ?? 0) + 1
    }
    return { ...counts }
  }
}
