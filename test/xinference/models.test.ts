import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay } from '../helpers/relay.js'

// restful_api.py list_models(): {"object": "list", "data": [{"id": uid, "object": "model",
// "created": 0, "owned_by": "xinference", **model_info}]}, model_info being Xinference's own
// description of each running model (type, abilities, sizes, addresses…). Clients get
// OpenAI's list entries only: id, object, created, owned_by.
const xinferenceModels = {
  object: 'list',
  data: [
    {
      id: 'qwen2.5-instruct',
      object: 'model',
      created: 0,
      owned_by: 'xinference',
      model_type: 'LLM',
      address: '0.0.0.0:38421',
      accelerators: ['0'],
      model_name: 'qwen2.5-instruct',
      model_lang: ['en', 'zh'],
      model_ability: ['generate', 'chat'],
      model_description: 'Qwen2.5 instruct',
      model_format: 'pytorch',
      model_size_in_billions: 7,
      model_family: 'qwen2.5-instruct',
      quantization: 'none',
      model_hub: 'huggingface',
      revision: null,
      context_length: 32768,
      replica: 1,
    },
    {
      id: 'bge-m3',
      object: 'model',
      created: 0,
      owned_by: 'xinference',
      model_type: 'embedding',
      address: '0.0.0.0:38422',
      accelerators: ['0'],
      model_name: 'bge-m3',
      dimensions: 1024,
      max_tokens: 8192,
      language: ['zh', 'en'],
      model_revision: null,
      replica: 1,
    },
  ],
}

t.test('GET /v1/models: Xinference\'s list normalised to OpenAI\'s shape', async (t) => {
  const up = await startUpstream(t)
  up.handler = (req, res) => {
    res.writeHead(req.url === '/v1/models' && req.method === 'GET' ? 200 : 404, { 'content-type': 'application/json' })
    res.end(JSON.stringify(xinferenceModels))
  }
  const relay = await startRelay(t, { upstreams: [{ name: 'xi', kind: 'xinference', baseUrl: up.baseUrl, apiKey: 'sk-xinf-upstream' }] })
  const res = await fetch(`${relay.url}/v1/models`)
  t.equal(res.status, 200)
  t.same(await res.json(), {
    object: 'list',
    data: [
      { id: 'qwen2.5-instruct', object: 'model', created: 0, owned_by: 'xinference' },
      { id: 'bge-m3', object: 'model', created: 0, owned_by: 'xinference' },
    ],
  })
  t.equal(up.requests[0]?.headers.authorization, 'Bearer sk-xinf-upstream', 'asked with the upstream key')
})
