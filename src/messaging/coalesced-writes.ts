/** The part of amqplib's connection internals this relies on (amqplib 0.10 – 2.x). */
interface Muxer {
  out: { cork(): void; uncork(): void };
  _readIncoming(): void;
}

const coalesced = new WeakSet<object>();

/**
 * One socket write per turn for everything the connection sends (issue 28).
 *
 * amqplib queues each channel's frames and writes them to the socket from a `setImmediate`,
 * one `write` — one system call — per frame: at 2,000 events/s the publishes alone were 2,000
 * writes a second, about 5% of the gateway's CPU. The connection's multiplexer is wrapped so
 * that each of its rounds runs with the socket corked and is flushed by one `writev`. Order,
 * back-pressure (`write` still answers false past the high-water mark, and the multiplexer waits
 * for 'drain') and every frame are unchanged. If amqplib's internals are not the ones known here,
 * the connection is left as it is (and writes frame by frame, as before). `model` is amqplib's
 * ChannelModel (amqp-connection-manager's `connection`); returns whether it applied.
 */
export function coalesceWrites(model: unknown): boolean {
  const muxer = (model as { connection?: { muxer?: Partial<Muxer> } } | undefined)?.connection
    ?.muxer;
  if (
    !muxer ||
    typeof muxer._readIncoming !== 'function' ||
    typeof muxer.out?.cork !== 'function' ||
    typeof muxer.out.uncork !== 'function'
  )
    return false;
  if (coalesced.has(muxer)) return true;
  const round = muxer._readIncoming.bind(muxer);
  const out = muxer.out;
  muxer._readIncoming = () => {
    out.cork();
    try {
      round();
    } finally {
      out.uncork();
    }
  };
  coalesced.add(muxer);
  return true;
}
