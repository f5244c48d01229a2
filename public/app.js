// llm-relay playground: a chat page streaming through the relay, by fetch() or by EventSource.
// Model output is only ever written with text nodes / textContent, never parsed as HTML.
import { readEvents } from './sse.js'

// Settings survive reloads in localStorage (this browser only), under these keys:
const KEYS = { relay: 'llm-relay.relayUrl', token: 'llm-relay.token', model: 'llm-relay.model', mode: 'llm-relay.mode' }
const store = {
  get: (k) => { try { return localStorage.getItem(k) } catch { return null } },
  set: (k, v) => { try { v ? localStorage.setItem(k, v) : localStorage.removeItem(k) } catch { /* storage off */ } },
}

const $ = (id) => document.querySelector(`[data-testid="${id}"]`)
const el = {
  settings: $('settings'),
  relay: $('relay-url'),
  token: $('token'),
  model: $('model'),
  mode: $('mode'),
  reload: $('reload-models'),
  composer: $('composer'),
  prompt: $('prompt'),
  send: $('send'),
  stop: $('stop'),
  clear: $('clear'),
  status: $('status'),
  transcript: $('transcript'),
}

// Served by the relay, the relay is where this page lives: its origin, plus the plugin's prefix when
// mounted under one (page at /llm/ → relay http://host/llm). Opened from a file: the default local relay.
const defaultRelay = location.protocol.startsWith('http')
  ? location.origin + location.pathname.replace(/\/[^/]*$/, '')
  : 'http://127.0.0.1:8080'
const relay = () => (el.relay.value.trim() || defaultRelay).replace(/\/+$/, '')

let history = []    // the conversation sent as `messages`
let current = null  // { stop() } while a reply is on its way

function headers (json) {
  const h = json ? { 'Content-Type': 'application/json' } : {}
  const token = el.token.value.trim()
  if (token) h.Authorization = `Bearer ${token}` // no header at all when there is no token
  return h
}

function setStatus (state, text = state) {
  el.status.dataset.state = state
  el.status.textContent = text
}

const safeJSON = (s) => { try { return JSON.parse(s) } catch { return null } }

// fetch() rejects with a bare TypeError for DNS, refused connections and CORS alike.
const networkMessage = (err) =>
  err instanceof TypeError ? `cannot reach ${relay()} (down, wrong URL or CORS not allowed)` : err.message

// The relay's errors are the OpenAI envelope {"error":{"message","type","param","code"}}.
function envelopeMessage (body, fallback) {
  const e = body && body.error
  if (e && typeof e === 'object' && e.message) return `${e.code || e.type || 'error'}: ${e.message}`
  return fallback
}

async function httpError (res) {
  const body = await res.json().catch(() => null)
  return envelopeMessage(body, `HTTP ${res.status} ${res.statusText}`.trim())
}

// ---- models ---------------------------------------------------------------------------------

let modelsRequest = 0 // only the latest reload may fill the list
async function loadModels () {
  const seq = ++modelsRequest
  const wanted = el.model.value || store.get(KEYS.model)
  el.model.replaceChildren(new Option('loading…', ''))
  el.model.disabled = true
  let options
  try {
    const res = await fetch(`${relay()}/v1/models`, { headers: headers(false) })
    if (!res.ok) throw new Error(await httpError(res))
    const list = (await res.json())?.data ?? []
    options = list.map((m) => {
      const demo = m.owned_by === 'llm-relay-demo' || m.id === 'demo'
      return new Option(demo ? `${m.id} (demo)` : m.id, m.id)
    })
    if (!options.length) options = [new Option('(no models for this token)', '')]
    if (!current) setStatus('idle')
  } catch (err) {
    options = [new Option('(models unavailable)', '')]
    if (!current) setStatus('error', `models: ${networkMessage(err)}`)
  }
  if (seq !== modelsRequest) return
  el.model.replaceChildren(...options)
  if (options.some((o) => o.value === wanted)) el.model.value = wanted
  el.model.disabled = false
}

// ---- transcript -----------------------------------------------------------------------------

function addMessage (role, text, label) {
  const item = document.createElement('article')
  item.className = `msg ${role}`
  item.setAttribute('data-testid', `${role}-message`)
  const who = document.createElement('div')
  who.className = 'who'
  who.textContent = label
  const content = document.createElement('div')
  content.className = 'content'
  content.append(document.createTextNode(text))
  const meta = document.createElement('div')
  meta.className = 'meta'
  item.append(who, content, meta)
  el.transcript.append(item)
  item.scrollIntoView({ block: 'end' })
  return item
}

// Follow the reply as it grows, unless the reader scrolled up to read something else.
function follow (write) {
  const t = el.transcript
  const atBottom = t.scrollHeight - t.scrollTop - t.clientHeight < 48
  write()
  if (atBottom) t.scrollTop = t.scrollHeight
}

function assistantBubble (model) {
  const item = addMessage('assistant', '', model)
  item.dataset.state = 'streaming'
  const answer = item.querySelector('.content')
  const text = answer.firstChild
  const meta = item.querySelector('.meta')
  let tokens = 0
  // The model's reasoning, apart from the answer: a <details> made at the first reasoning delta,
  // open while the reasoning streams, folded once the answer begins (the reader may open it again).
  let reasoning = null
  let answered = false
  const plural = (n) => `${n} token${n === 1 ? '' : 's'}`

  // Every way a reply can end goes through finish(); only the first call counts.
  function finish (state, note, error) {
    if (item.dataset.state !== 'streaming') return
    item.dataset.state = state
    follow(() => {
      meta.textContent = note || ''
      if (error) {
        const box = document.createElement('div')
        box.className = 'error'
        box.setAttribute('role', 'alert')
        box.textContent = error
        item.insertBefore(box, meta)
      }
    })
    setStatus(state, state === 'done' ? `done · ${plural(tokens)}` : state === 'error' ? `error: ${error}` : state)
  }

  function reasoningBox () {
    const box = document.createElement('details')
    box.className = 'reasoning'
    box.setAttribute('data-testid', 'reasoning')
    box.open = true
    const summary = document.createElement('summary')
    summary.textContent = 'Thinking…'
    const body = document.createElement('div')
    body.className = 'reasoning-text'
    body.append(document.createTextNode(''))
    box.append(summary, body)
    item.insertBefore(box, answer)
    return { box, summary, text: body.firstChild }
  }

  function foldReasoning () {
    if (!reasoning) return
    reasoning.box.open = false
    reasoning.summary.textContent = 'Reasoning'
  }

  return {
    get text () { return text.data },
    get tokens () { return tokens },
    append (delta) {
      if (typeof delta !== 'string' || !delta || item.dataset.state !== 'streaming') return
      follow(() => {
        if (!answered) { answered = true; foldReasoning() }
        text.appendData(delta)
        meta.textContent = ''
      })
      tokens += 1
      setStatus('streaming', `streaming · ${plural(tokens)}`)
    },
    reason (delta) { // an `event: reasoning` delta: {"content": …}
      if (typeof delta !== 'string' || !delta || item.dataset.state !== 'streaming') return
      follow(() => {
        if (!reasoning) {
          reasoning = reasoningBox()
          if (answered) foldReasoning() // reasoning after the answer began: kept, but folded
        }
        reasoning.text.appendData(delta)
        meta.textContent = ''
      })
      if (!answered) setStatus('streaming', 'thinking…')
    },
    toolCall (call) { // an `event: tool_call`: {"index", "id", "name", "arguments"}, complete
      if (!call || typeof call !== 'object' || item.dataset.state !== 'streaming') return
      const block = document.createElement('div')
      block.className = 'tool-call'
      block.setAttribute('data-testid', 'tool-call')
      block.textContent = `tool call: ${call.name ?? '?'}(${call.arguments ?? ''})`
      follow(() => {
        if (!answered) { answered = true; foldReasoning() } // a call is the answer beginning too
        item.insertBefore(block, meta)
        meta.textContent = ''
      })
    },
    reconnecting () {
      if (item.dataset.state !== 'streaming') return
      meta.textContent = 'reconnecting…'
      setStatus('streaming', 'reconnecting…')
    },
    resumed () {
      if (item.dataset.state !== 'streaming') return
      meta.textContent = ''
      setStatus('streaming', `streaming · ${plural(tokens)}`)
    },
    done (stop) { // the `stop` event: {"finish_reason": …, "usage": {…} | null}
      const parts = [`finish: ${stop?.finish_reason ?? 'unknown'}`]
      const u = stop?.usage
      if (u) parts.push(`tokens: ${u.prompt_tokens ?? '?'} in · ${u.completion_tokens ?? '?'} out · ${u.total_tokens ?? '?'} total`)
      finish('done', parts.join(' · '))
    },
    stopped () { finish('stopped', '(stopped)') },
    interrupted (why) { finish('interrupted', `interrupted: ${why} — this reply is incomplete`) },
    fail (message) { finish('error', '', message) },
  }
}

// ---- streaming: fetch ----------------------------------------------------------------------

async function viaFetch (body, bubble) {
  const ctrl = new AbortController()
  current = { stop: () => ctrl.abort() }
  let res
  try {
    res = await fetch(`${relay()}/v1/chat/completions?format=content`, {
      method: 'POST', headers: { ...headers(true), Accept: 'text/event-stream' }, body, signal: ctrl.signal,
    })
  } catch (err) {
    return ctrl.signal.aborted ? bubble.stopped() : bubble.fail(networkMessage(err))
  }
  // Failures before the first byte are plain HTTP errors with a JSON body, not a stream.
  if (!res.ok) return bubble.fail(await httpError(res))
  setStatus('streaming', 'streaming · 0 tokens')
  try {
    for await (const ev of readEvents(res.body)) {
      const data = safeJSON(ev.data)
      if (ev.type === 'message') bubble.append(data?.content)
      else if (ev.type === 'reasoning') bubble.reason(data?.content)
      else if (ev.type === 'tool_call') bubble.toolCall(data)
      else if (ev.type === 'stop') return bubble.done(data)
      else if (ev.type === 'error') return bubble.fail(envelopeMessage(data, ev.data || 'stream error'))
    }
    // A clean end of the body without `event: stop` is a broken stream, never a complete answer.
    return bubble.interrupted('the stream ended without a stop event')
  } catch (err) {
    return ctrl.signal.aborted ? bubble.stopped() : bubble.interrupted(err.message || 'connection lost')
  }
}

// ---- streaming: EventSource (POST /v1/streams, then GET the stream without credentials) -----

async function viaEventSource (body, bubble) {
  const base = relay()
  const ctrl = new AbortController()
  let es = null
  let streamUrl = null
  let settle = () => {} // resolves the wait for the stream's end, once the EventSource is open
  const cancel = () => { // DELETE cancels the generation on the relay; its answer does not matter
    fetch(streamUrl, { method: 'DELETE', headers: headers(false) }).catch(() => {})
  }
  current = {
    stop () { // works during the POST as well as once the EventSource is reading
      ctrl.abort()
      if (es) es.close()
      if (streamUrl) cancel()
      bubble.stopped()
      settle()
    },
  }

  let created
  try {
    const res = await fetch(`${base}/v1/streams`, { method: 'POST', headers: headers(true), body, signal: ctrl.signal })
    if (!res.ok) return bubble.fail(await httpError(res))
    created = await res.json() // 201 {"id", "url": "/v1/streams/<id>", "expires_at"}
  } catch (err) {
    return ctrl.signal.aborted ? bubble.stopped() : bubble.fail(networkMessage(err))
  }
  if (typeof created?.url !== 'string') return bubble.fail('the relay did not return a stream url')
  // The url is root-relative and already holds any prefix the relay is mounted under: resolve it
  // against the relay's origin rather than appending it to the relay URL.
  streamUrl = new URL(created.url, `${base}/`).href

  const url = new URL(streamUrl)
  url.searchParams.set('format', 'content')
  es = new EventSource(url) // a plain GET: no token needed, the id is the capability
  let opened = false
  await new Promise((resolve) => {
    settle = resolve
    const end = (finish) => { es.close(); finish(); resolve() }
    es.addEventListener('open', () => { opened = true; bubble.resumed() })
    es.addEventListener('message', (e) => bubble.append(safeJSON(e.data)?.content))
    es.addEventListener('reasoning', (e) => bubble.reason(safeJSON(e.data)?.content))
    es.addEventListener('tool_call', (e) => bubble.toolCall(safeJSON(e.data)))
    es.addEventListener('stop', (e) => end(() => bubble.done(safeJSON(e.data))))
    es.addEventListener('error', (e) => {
      // "error" is both the relay's `event: error` (a MessageEvent with data) and the browser's
      // own connection-error event (a plain Event, no data).
      if (e instanceof MessageEvent) {
        return end(() => bubble.fail(envelopeMessage(safeJSON(e.data), e.data || 'stream error')))
      }
      if (es.readyState === EventSource.CLOSED) { // the browser gave up (HTTP error, 404, CORS, …)
        return end(() => (opened
          ? bubble.interrupted('the stream closed before its stop event')
          : bubble.fail(`could not open the stream ${url.pathname}`)))
      }
      // Still CONNECTING: EventSource retries by itself, sending Last-Event-ID, and the relay
      // replays what was missed, so only say so.
      bubble.reconnecting()
    })
  })
}

// ---- wiring -------------------------------------------------------------------------------

function setBusy (busy) {
  el.send.disabled = busy
  el.clear.disabled = busy
  el.stop.disabled = !busy
  el.transcript.setAttribute('aria-busy', String(busy))
}

async function send () {
  const text = el.prompt.value.trim()
  if (current || !text) return
  const model = el.model.value
  if (!model) return setStatus('error', 'no model selected: check the relay URL and token, then reload models')
  el.prompt.value = ''
  history.push({ role: 'user', content: text })
  addMessage('user', text, 'You')
  const bubble = assistantBubble(model)
  const body = JSON.stringify({ model, stream: true, messages: history })
  setBusy(true)
  setStatus('connecting', 'connecting…')
  try {
    await (el.mode.value === 'eventsource' ? viaEventSource : viaFetch)(body, bubble)
  } catch (err) {
    bubble.fail(err.message) // a bug, not a stream outcome; never leave the page stuck busy
  }
  // Keep whatever arrived (even a stopped reply) so the next question has its context.
  if (bubble.text) history.push({ role: 'assistant', content: bubble.text })
  current = null
  setBusy(false)
  el.prompt.focus()
}

el.relay.value = store.get(KEYS.relay) || defaultRelay
el.token.value = store.get(KEYS.token) || ''
el.mode.value = store.get(KEYS.mode) === 'eventsource' ? 'eventsource' : 'fetch'

el.settings.addEventListener('submit', (e) => { e.preventDefault(); loadModels() })
el.relay.addEventListener('change', () => { store.set(KEYS.relay, el.relay.value.trim()); loadModels() })
el.token.addEventListener('change', () => { store.set(KEYS.token, el.token.value.trim()); loadModels() })
el.model.addEventListener('change', () => store.set(KEYS.model, el.model.value))
el.mode.addEventListener('change', () => store.set(KEYS.mode, el.mode.value))
el.reload.addEventListener('click', loadModels)
el.composer.addEventListener('submit', (e) => { e.preventDefault(); send() })
el.stop.addEventListener('click', () => current?.stop())
el.clear.addEventListener('click', () => { history = []; el.transcript.replaceChildren(); setStatus('idle') })
el.prompt.addEventListener('keydown', (e) => {
  // Enter sends, Shift+Enter is a newline; never send while an IME is composing (Chinese, Japanese…).
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
    e.preventDefault()
    send()
  }
})

setBusy(false)
loadModels()
