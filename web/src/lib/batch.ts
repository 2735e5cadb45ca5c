// Coalesce a burst of live messages into one store update per animation frame, so hundreds of messages per
// second cost a few renders per second.

export type Schedule = (flush: () => void) => void;

const nextFrame: Schedule = (flush) => {
  if (typeof requestAnimationFrame === "function") requestAnimationFrame(flush);
  else setTimeout(flush, 16);
};

/** Return a function that queues items; `flush` gets everything queued since the last flush, once per frame. */
export function batcher<T>(flush: (items: T[]) => void, schedule: Schedule = nextFrame): (item: T) => void {
  let pending: T[] = [];
  let scheduled = false;
  return (item: T) => {
    pending.push(item);
    if (scheduled) return;
    scheduled = true;
    schedule(() => {
      scheduled = false;
      const items = pending;
      pending = [];
      flush(items);
    });
  };
}
