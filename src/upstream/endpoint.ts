/** The OpenAI endpoints the relay forwards. */
export type Endpoint = 'chat' | 'completions' | 'embeddings'

/** Each endpoint's path under an upstream's base URL. */
export const ENDPOINT_PATHS: Readonly<Record<Endpoint, string>> = {
  chat: '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
}
