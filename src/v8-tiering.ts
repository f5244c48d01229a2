import { setFlagsFromString } from 'node:v8'

/**
 * V8's tier-up thresholds, lowered for the relay's own process (the CLI only:
 * the plugin runs in someone else's process and leaves its V8 alone).
 *
 * Why: a fresh process, the one a deploy, a scale-out or a restart puts in
 * front of a burst of new chats, runs the request path in V8's interpreter and
 * baseline code until each function has been called about 400 times (Maglev)
 * and 500 times since its inline caches last changed. The relay's request path
 * is a few hundred functions deep, each called once or twice per request, so
 * for the first thousands of requests most of it is not optimised. At 100 and
 * 100, measured with the bench's cold sequential scenario (200 warm-up requests,
 * then 2,000 non-streamed requests on a fresh process, Node 26, three
 * interleaved pairs): 419–461 → 343–357 CPU µs per request; in the steady state
 * (8,000 requests in) 292–312 → 304–325, i.e. within the noise, slightly higher.
 * bench/README.md, "Per request".
 *
 * An operator's own value wins: a flag already given on the command line
 * (`node --invocation-count-for-maglev=400 dist/cli.js`) is left as it is.
 */
export const TIER_UP_FLAGS: readonly string[] = [
  '--invocation-count-for-maglev=100',
  '--minimum-invocations-after-ic-update=100',
]

/** The flags of TIER_UP_FLAGS that `execArgv` does not set already (V8 accepts `-` and `_` alike). */
export function tierUpFlagsToSet (execArgv: readonly string[]): string[] {
  const given = new Set(execArgv.map(flagName))
  return TIER_UP_FLAGS.filter((flag) => !given.has(flagName(flag)))
}

/** Sets the thresholds this process was not given; returns what it set (the CLI logs it at debug). */
export function lowerTierUpThresholds (execArgv: readonly string[] = process.execArgv): string[] {
  const flags = tierUpFlagsToSet(execArgv)
  if (flags.length > 0) setFlagsFromString(flags.join(' '))
  return flags
}

function flagName (arg: string): string {
  return arg.split('=')[0]!.replaceAll('_', '-')
}
