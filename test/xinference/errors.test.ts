import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'
import { xDetail } from '../helpers/xinference.js'

// Xinference's errors before streaming are FastAPI HTTPExceptions: `{"detail": …}`
// (restful_api.py: 400 "Invalid input. Please specify the prompt.", 501 "Not implemented";
// api/utils.py require_model: 404 for an unknown uid, 503 "Model is loading, please retry
// later" with Retry-After: 30); FastAPI's own validation errors are 422 with a list; an
// uncaught exception is text/plain "Internal Server Error: …" (its 500 exception handler).
// The client always gets the OpenAI envelope: 4xx with the upstream's status and message,
// 5xx as 502 (the fault is past the relay), retry hints kept.
const cases: Array<{ name: string, answer: Parameters<typeof xDetail> extends [unknown, ...infer R] ? R : never, plain?: string, status: number, error: Record<string, unknown>, retryAfter?: string }> = [
  { name: '400 bad input', answer: [400, 'Invalid input. Please specify the prompt.'], status: 400, error: { message: 'Invalid input. Please specify the prompt.', type: 'invalid_request_error', param: null, code: 'invalid_request' } },
  { name: '404 unknown model uid', answer: [404, 'Model not found in the model list, uid: qwen-missing'], status: 404, error: { message: 'Model not found in the model list, uid: qwen-missing', type: 'invalid_request_error', param: 'model', code: 'model_not_found' } },
  { name: '400 unknown model uid (Xinference 1.x)', answer: [400, 'Model not found in the model list, uid: qwen-missing'], status: 400, error: { message: 'Model not found in the model list, uid: qwen-missing', type: 'invalid_request_error', param: 'model', code: 'model_not_found' } },
  { name: '401 upstream auth', answer: [401, 'Could not validate credentials'], status: 401, error: { message: 'Could not validate credentials', type: 'authentication_error', param: null, code: 'invalid_api_key' } },
  { name: '422 FastAPI validation list', answer: [422, [{ loc: ['body', 'messages'], msg: 'field required', type: 'value_error.missing' }]], status: 422, error: { message: 'body.messages: field required', type: 'invalid_request_error', param: null, code: 'invalid_request' } },
  { name: '503 model loading', answer: [503, 'Model is loading, please retry later: qwen2.5-instruct', { 'retry-after': '30' }], status: 502, retryAfter: '30', error: { message: 'Upstream "xi" answered HTTP 503: Model is loading, please retry later: qwen2.5-instruct', type: 'api_error', param: null, code: 'upstream_error' } },
  { name: '501 not implemented', answer: [501, 'Not implemented'], status: 502, error: { message: 'Upstream "xi" answered HTTP 501: Not implemented', type: 'api_error', param: null, code: 'upstream_error' } },
  { name: '500 plain text', answer: [500, ''], plain: 'Internal Server Error: CUDA error: device-side assert triggered', status: 502, error: { message: 'Upstream "xi" answered HTTP 500: Internal Server Error: CUDA error: device-side assert triggered', type: 'api_error', param: null, code: 'upstream_error' } },
]

for (const stream of [false, true]) {
  t.test(`${stream ? 'streamed' : 'non-streamed'} requests`, async (t) => {
    const up = await startUpstream(t)
    const relay = await startRelay(t, { upstreams: [{ name: 'xi', kind: 'xinference', baseUrl: up.baseUrl }] })
    for (const c of cases) {
      up.handler = (_req, res) => {
        if (c.plain !== undefined) { res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }); res.end(c.plain); return }
        xDetail(res, ...c.answer)
      }
      const res = await fetch(`${relay.url}/v1/chat/completions?format=content`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('qwen2.5-instruct', { stream }) })
      t.equal(res.status, c.status, `${c.name}: status`)
      t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8', `${c.name}: JSON, not a stream`)
      t.equal(res.headers.get('retry-after'), c.retryAfter ?? null, `${c.name}: Retry-After`)
      t.same(await res.json(), { error: c.error }, `${c.name}: envelope`)
    }
  })
}
