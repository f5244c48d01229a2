/** One sample line of the Prometheus text format: `name{label="value",…} 12`. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

/** Parses the exposition text; comment and blank lines are skipped, a malformed line throws. */
export function parsePrometheus (text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = LINE.exec(line)
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(LABEL)) {
      labels[l[1] as string] = (l[2] as string).replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1')
    }
    const raw = m[3] as string
    samples.push({ name: m[1] as string, labels, value: raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw) })
  }
  return samples
}

/** The samples of `name` whose labels include every pair of `labels`. */
export function samplesOf (samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
}

/** The value of the one sample of `name` with exactly `labels`; undefined when there is none. */
export function valueOf (samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.keys(labels).length
  const found = samplesOf(samples, name, labels).filter((s) => Object.keys(s.labels).length === want)
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`)
  return found[0]?.value
}

/** GET /metrics on a running relay, parsed. */
export async function scrape (url: string, token?: string): Promise<Sample[]> {
  const res = await fetch(`${url}/metrics`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${await res.text()}`)
  return parsePrometheus(await res.text())
}

/** Polls /metrics until `check` holds (bounded: `tries` × 25 ms), returning the last scrape. */
export async function scrapeUntil (url: string, check: (samples: Sample[]) => boolean, tries = 80): Promise<Sample[]> {
  let samples = await scrape(url)
  for (let i = 0; i < tries && !check(samples); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25))
    samples = await scrape(url)
  }
  return samples
}
