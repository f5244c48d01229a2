import t from 'tap'
import { heartbeatEvery, type Beating } from '../../src/relay/heartbeat.js'
import { sleep } from '../helpers/upstream.js'

// The heartbeat's list of streams (relay/heartbeat.ts): streams are slots of an array, each
// holding its own index, so add and delete must keep every index right, also when a stream
// ends (and leaves the list) inside its own beat().

class FakeStream implements Beating {
  heartbeatSlot = -1
  beats = 0
  constructor (readonly name: string, public lastWriteAt = 0, private readonly onBeat?: (s: FakeStream) => void) {}
  beat (): void {
    this.beats++
    this.onBeat?.(this)
  }
}

t.test('only the streams still in the list are beaten, whatever order they left in', async (t) => {
  const wheel = heartbeatEvery(30)
  const streams = ['a', 'b', 'c', 'd', 'e'].map((name) => new FakeStream(name))
  for (const s of streams) wheel.add(s)
  t.same(streams.map((s) => s.heartbeatSlot), [0, 1, 2, 3, 4], 'each stream holds its index')
  // Delete from the middle (the last one moves into its slot), then the first, then the (new) last.
  wheel.delete(streams[1]!)
  wheel.delete(streams[0]!)
  wheel.delete(streams[2]!)
  t.same([streams[0]!.heartbeatSlot, streams[1]!.heartbeatSlot, streams[2]!.heartbeatSlot], [-1, -1, -1], 'a deleted stream is marked out')
  // Deleting twice, or a stream never added, changes nothing.
  wheel.delete(streams[1]!)
  wheel.delete(new FakeStream('never'))
  const kept = [streams[3]!, streams[4]!]
  t.same(kept.map((s) => s.heartbeatSlot).sort(), [0, 1], 'the two left hold slots 0 and 1')
  await sleep(150)
  t.same(streams.map((s) => s.beats > 0), [false, false, false, true, true], 'silent streams in the list were beaten, the deleted ones never')
  for (const s of kept) wheel.delete(s)
  const before = kept.map((s) => s.beats)
  await sleep(100)
  t.same(kept.map((s) => s.beats), before, 'no beat after delete')
})

t.test('a stream that is not silent for the interval gets no beat', async (t) => {
  const wheel = heartbeatEvery(40)
  const busy = new FakeStream('busy', performance.now())
  const timer = setInterval(() => { busy.lastWriteAt = performance.now() }, 5)
  t.teardown(() => clearInterval(timer))
  wheel.add(busy)
  wheel.add(busy) // twice: still one slot
  await sleep(200)
  t.equal(busy.beats, 0, 'writes every 5 ms keep a 40 ms heartbeat quiet')
  wheel.delete(busy)
  t.equal(busy.heartbeatSlot, -1)
})

t.test('a stream that ends inside its beat() leaves no other stream unbeaten', async (t) => {
  const wheel = heartbeatEvery(25)
  // Each of these leaves the list on its first beat: the sweep must still reach every one.
  const leaving = Array.from({ length: 6 }, (_, i) => new FakeStream(`l${i}`, 0, (s) => wheel.delete(s)))
  // This one ends another stream (the first) when it is beaten: a slot behind the sweep changes.
  const stayer = new FakeStream('stayer', 0, () => wheel.delete(leaving[0]!))
  wheel.add(leaving[0]!)
  wheel.add(stayer)
  for (const s of leaving.slice(1)) wheel.add(s)
  await sleep(150)
  // The sweep runs from the end: l5..l1 are beaten (and leave), then the stayer, which ends l0 before its turn.
  t.same(leaving.map((s) => s.beats), [0, 1, 1, 1, 1, 1], 'every leaving stream was beaten once, then never again; l0 left unbeaten')
  t.ok(stayer.beats >= 2, `the stream still in the list keeps being beaten (${stayer.beats})`)
  t.same(leaving.map((s) => s.heartbeatSlot), [-1, -1, -1, -1, -1, -1])
  t.equal(stayer.heartbeatSlot, 0, 'the one left holds slot 0')
  wheel.delete(stayer)
})
