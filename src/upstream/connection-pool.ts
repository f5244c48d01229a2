import { buildConnector, Client, Dispatcher, errors } from 'undici'

export interface ConnectionPoolOptions {
  /** TCP (and TLS) connect timeout, ms. */
  connectTimeoutMs: number
}

/**
 * Keep-alive HTTP/1.1 connections to ONE origin (an upstream's), one request
 * at a time on each and no cap on their number: every open stream holds one.
 * The idle ones wait on a stack, so a new request takes the most recently
 * freed connection (its socket the likeliest still open) in O(1).
 *
 * Why not undici's Pool: it finds a free connection by walking all of them,
 * twice per request (kGetDispatcher, then kHasDispatcher after the dispatch),
 * so with n streams open each new request costs O(n); in a burst of 3,000 new
 * chats that walk was 5–7 % of the relay's main thread (bench/README.md). The
 * connections themselves are undici Clients, one shared connector (so TLS
 * sessions are resumed across connections, as in a Pool).
 */
export class ConnectionPool extends Dispatcher {
  readonly #origin: URL
  readonly #clientOptions: Client.Options
  /** Every connection of the pool, busy or idle. */
  readonly #clients = new Set<Client>()
  /**
   * Connections taken out of the pool that may still be serving a request (a socket closed by the
   * upstream just as a request was sent on it reconnects to serve it): close() waits for them and
   * destroy() ends them, each until its own close() has settled.
   */
  readonly #retiring = new Set<Client>()
  /** Idle connections, most recently freed last; may hold retired ones, skipped when taken. */
  readonly #idle: Client[] = []
  #closed = false

  constructor (origin: string | URL, options: ConnectionPoolOptions) {
    super()
    this.#origin = new URL(origin)
    // Every Client of the pool holds this one URL, and undici reads its `origin` for each request
    // it sends (`new Request(this[kUrl].origin, …)`), which Node's URL builds anew each time: a
    // profile of the burst had URL's `host` getter at ~1 % of the main thread. Computed once here.
    Object.defineProperty(this.#origin, 'origin', { value: this.#origin.origin })
    this.#clientOptions = {
      connect: buildConnector({ timeout: options.connectTimeoutMs }),
      pipelining: 1,
      // HTTP/1.1 only: one stream, one connection (upstream/dispatcher.ts says why).
      allowH2: false,
    }
  }

  /** Connections open or opening (for tests and diagnostics). */
  get size (): number {
    return this.#clients.size
  }

  override dispatch (options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (this.#closed) {
      // As undici's own dispatchers: the handler hears it, and nothing was queued.
      handler.onResponseError?.(null as unknown as Dispatcher.DispatchController, new errors.ClientClosedError())
      return true
    }
    const client = this.#take() ?? this.#open()
    // false: the request is queued and the connection busy until its 'drain' puts it back on the
    // stack. true: nothing was queued (undici refused the request at once and told the handler),
    // so no 'drain' will come: the connection goes back now, or it would never be used again.
    if (client.dispatch(options, handler)) this.#idle.push(client)
    // The pool itself is never full.
    return true
  }

  #take (): Client | undefined {
    let client = this.#idle.pop()
    while (client !== undefined && !this.#clients.has(client)) client = this.#idle.pop()
    return client
  }

  #open (): Client {
    const client = new Client(this.#origin, this.#clientOptions)
    this.#clients.add(client)
    // undici's Client emits 'drain' when a busy connection can take a request again.
    client.on('drain', () => { if (this.#clients.has(client)) this.#idle.push(client) })
    // A connection that failed to connect is not tried again (as undici's Pool, nodejs/undici#3895),
    // and one whose socket closed (keep-alive timeout, the upstream's close, a request cut) is
    // dropped rather than kept as an empty Client: the next request opens a new one.
    client.on('connectionError', () => this.#retire(client))
    client.on('disconnect', () => this.#retire(client))
    return client
  }

  #retire (client: Client): void {
    if (!this.#clients.delete(client)) return
    // Stale entries on the idle stack are skipped by #take(); compact it when they outnumber the live ones.
    if (this.#idle.length > 2 * this.#clients.size + 16) {
      const live = this.#idle.filter((c) => this.#clients.has(c))
      this.#idle.length = 0
      this.#idle.push(...live)
    }
    if (client.closed || client.destroyed) return
    this.#retiring.add(client)
    client.close().catch(() => {}).finally(() => this.#retiring.delete(client))
  }

  /** Every connection that still needs closing or destroying. */
  #all (): Client[] {
    return [...this.#clients, ...this.#retiring]
  }

  override close (): Promise<void>
  override close (callback: () => void): void
  override close (callback?: () => void): Promise<void> | void {
    this.#closed = true
    // A retiring connection's close() is under way already: a second call waits for the same end
    // (and one destroyed meanwhile has nothing left to wait for).
    const done = Promise.all(this.#all().map((c) => c.close().catch(() => {}))).then(() => {})
    if (callback === undefined) return done
    done.then(callback, callback)
  }

  override destroy (): Promise<void>
  override destroy (err: Error | null): Promise<void>
  override destroy (callback: () => void): void
  override destroy (err: Error | null, callback: () => void): void
  override destroy (errOrCallback?: Error | null | (() => void), callback?: () => void): Promise<void> | void {
    const err = typeof errOrCallback === 'function' ? null : errOrCallback ?? null
    const cb = typeof errOrCallback === 'function' ? errOrCallback : callback
    this.#closed = true
    const done = Promise.all(this.#all().map((c) => c.destroy(err))).then(() => {})
    this.#clients.clear()
    this.#retiring.clear()
    this.#idle.length = 0
    if (cb === undefined) return done
    done.then(cb, cb)
  }
}
