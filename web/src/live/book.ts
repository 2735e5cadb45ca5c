// An L2 order book kept from the book.{symbol} channel: a snapshot, then updates chained by sequence.

export type Level = [price: string, quantity: string];

export interface BookState {
  sequence: number;
  /** Best first: highest bid first, lowest ask first. */
  bids: Level[];
  asks: Level[];
}

export interface BookMessage {
  type: string;
  sequence: number;
  previous_sequence?: number;
  bids: Level[];
  asks: Level[];
}

export const EMPTY_BOOK: BookState = { sequence: 0, bids: [], asks: [] };

/**
 * Apply a snapshot or an update. Returns null when an update does not follow the state it was given
 * (a message was missed): the caller resubscribes for a fresh snapshot.
 */
export function applyBookMessage(state: BookState | null, message: BookMessage): BookState | null {
  if (message.type === "snapshot") {
    return { sequence: message.sequence, bids: [...message.bids], asks: [...message.asks] };
  }
  if (state === null || message.previous_sequence !== state.sequence) return null;
  return {
    sequence: message.sequence,
    bids: mergeLevels(state.bids, message.bids, true),
    asks: mergeLevels(state.asks, message.asks, false),
  };
}

function mergeLevels(levels: Level[], changes: Level[], descending: boolean): Level[] {
  if (changes.length === 0) return levels;
  const byPrice = new Map(levels);
  for (const [price, quantity] of changes) {
    if (Number(quantity) === 0) byPrice.delete(price);
    else byPrice.set(price, quantity);
  }
  const merged = [...byPrice.entries()];
  merged.sort((a, b) => (descending ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0])));
  return merged;
}

/** Cumulative quantity at each level, best first: the depth chart's steps. */
export function cumulative(levels: Level[]): { price: number; quantity: number; total: number }[] {
  let total = 0;
  return levels.map(([price, quantity]) => {
    total += Number(quantity);
    return { price: Number(price), quantity: Number(quantity), total };
  });
}
