import type { FormatName } from '../config/schema.js'
import { contentFormat } from './content.js'
import { openaiFormat } from './openai.js'
import { textFormat } from './text.js'
import type { FrameFormat } from './types.js'

/** Every frame format by name: a fourth format is one file plus one line here. */
export const FORMATS: Readonly<Record<FormatName, FrameFormat>> = {
  openai: openaiFormat,
  content: contentFormat,
  text: textFormat,
}

export function isFormatName (value: unknown): value is FormatName {
  return typeof value === 'string' && Object.hasOwn(FORMATS, value)
}

export type { FrameFormat, FrameWriter, FormatContext, StreamSummary, Usage } from './types.js'
