/** A config problem, with the path of the offending value (e.g. `upstreams[1].baseUrl`). */
export class ConfigError extends Error {
  readonly path: string
  constructor (path: string, problem: string) {
    super(path ? `${path}: ${problem}` : problem)
    this.name = 'ConfigError'
    this.path = path
  }
}

/** `/upstreams/1/baseUrl` (TypeBox's JSON pointer) → `upstreams[1].baseUrl`. */
export function pointerToPath (pointer: string): string {
  let out = ''
  for (const part of pointer.split('/').slice(1)) {
    const name = part.replace(/~1/g, '/').replace(/~0/g, '~')
    out += /^\d+$/.test(name) ? `[${name}]` : (out ? `.${name}` : name)
  }
  return out
}
