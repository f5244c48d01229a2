import { contentFormat } from './content.js'
import { openaiFormat } from './openai.js'
import { textFormat } from './text.js'
import type { FrameFormat } from './types.js'

/**
 * Every frame format by name, and the one list of format names: the config
 * schema, `?format=` and `X-Relay-Format` all derive from it. A fourth format
 * is one file plus one line here.
 */
export const FORMATS = {
  openai: openaiFormat,
  content: contentFormat,
  text: textFormat,
} as const satisfies Readonly<Record<string, FrameFormat>>

export type FormatName = keyof typeof FORMATS

export const FORMAT_NAMES = Object.keys(FORMATS) as FormatName[]

export function isFormatName (value: unknown): value is FormatName {
  return typeof value === 'string' && Object.hasOwn(FORMATS, value)
}

export type { FrameFormat, FrameWriter, FormatContext, StreamEvent, StreamSummary, Usage } from './types.js'
