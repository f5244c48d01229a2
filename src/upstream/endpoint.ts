/** The OpenAI endpoints the relay forwards (and reads: other POST paths pass through unread, relay/passthrough.ts). */
export type Endpoint = 'chat' | 'completions' | 'embeddings' | 'responses'

/** Each endpoint's path under an upstream's base URL. */
export const ENDPOINT_PATHS: Readonly<Record<Endpoint, string>> = {
  chat: '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
  responses: '/responses',
}
