import t from 'tap'
import { resolveConfig } from '../../src/config/resolve.js'
import type { RelayConfigInput } from '../../src/config/schema.js'

// SPEC §5.1: an upstream entry may say `"responses": "native" | "chat"`; the default is `native`
// for `openai` and `chat` for `xinference`.

const UP = { name: 'a', baseUrl: 'http://127.0.0.1:1/v1' }

t.test('the default follows the kind, and the key overrides it either way', async (t) => {
  const c = resolveConfig({
    upstreams: [
      UP,
      { ...UP, name: 'x', kind: 'xinference' },
      { ...UP, name: 'vllm', responses: 'chat' },
      { ...UP, name: 'x-native', kind: 'xinference', responses: 'native' },
    ],
  })
  t.strictSame(c.upstreams.map((u) => [u.name, u.responses]), [['a', 'native'], ['x', 'chat'], ['vllm', 'chat'], ['x-native', 'native']])
})

t.test('any other value is an error naming the path', async (t) => {
  t.throws(() => resolveConfig({ upstreams: [{ ...UP, responses: 'facade' }] } as unknown as RelayConfigInput), {
    name: 'ConfigError',
    path: 'upstreams[0].responses',
    message: /^upstreams\[0\]\.responses: .*\(got "facade"\)$/,
  })
})
