// Trades as the tape and the price chart keep them.
import type { Trade } from "../api/client";

/** Trades kept per symbol for the tape and the price chart. */
export const MAX_TRADES = 2000;

/** Newest first, each trade once, at most MAX_TRADES: the page fetched at start and live prints may overlap. */
export function mergeTrades(known: Trade[], incoming: Trade[]): Trade[] {
  const byId = new Map<number, Trade>();
  for (const trade of [...known, ...incoming]) byId.set(trade.trade_id, trade);
  return [...byId.values()].sort((a, b) => b.trade_id - a.trade_id).slice(0, MAX_TRADES);
}

