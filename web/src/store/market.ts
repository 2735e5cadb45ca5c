// Public market data per symbol, live: instruments, books, recent trades, tickers.
import { create } from "zustand";
import { api, type Instrument, type Ticker, type Trade, unwrap } from "../api/client";
import { batcher } from "../lib/batch";
import { mergeTrades } from "../lib/trades";
import { applyBookMessage, type BookMessage, type BookState } from "../live/book";
import { live, type ChannelMessage } from "../live/socket";

interface MarketState {
  instruments: Instrument[];
  books: Record<string, BookState>;
  trades: Record<string, Trade[]>;
  tickers: Record<string, Ticker>;
  loadInstruments: () => Promise<void>;
}

export const useMarket = create<MarketState>((set) => ({
  instruments: [],
  books: {},
  trades: {},
  tickers: {},
  async loadInstruments() {
    set({ instruments: unwrap(await api.GET("/api/instruments")) });
  },
}));

export function instrumentOf(symbol: string): Instrument | undefined {
  return useMarket.getState().instruments.find((instrument) => instrument.symbol === symbol);
}

const queueBook = batcher<{ symbol: string; message: BookMessage }>((items) => {
  const books = { ...useMarket.getState().books };
  for (const { symbol, message } of items) {
    const next = applyBookMessage(books[symbol] ?? null, message);
    if (next === null) {
      delete books[symbol];
      live.resubscribe(`book.${symbol}`);
    } else {
      books[symbol] = next;
    }
  }
  useMarket.setState({ books });
});

const queueTrades = batcher<{ symbol: string; trades: Trade[] }>((items) => {
  const all = { ...useMarket.getState().trades };
  for (const { symbol, trades } of items) {
    all[symbol] = mergeTrades(all[symbol] ?? [], trades);
  }
  useMarket.setState({ trades: all });
});

const queueTicker = batcher<Ticker>((items) => {
  const tickers = { ...useMarket.getState().tickers };
  for (const ticker of items) tickers[ticker.symbol] = ticker;
  useMarket.setState({ tickers });
});

/** Follow a symbol's book, trades and ticker until the returned function is called. */
export function watchSymbol(symbol: string): () => void {
  void api
    .GET("/api/trades/{symbol}", { params: { path: { symbol }, query: { limit: 500 } } })
    .then((result) => {
      const all = useMarket.getState().trades;
      useMarket.setState({ trades: { ...all, [symbol]: mergeTrades(all[symbol] ?? [], unwrap(result)) } });
    })
    .catch((error: unknown) => console.warn("trades", symbol, error));
  const stops = [
    live.subscribe(`book.${symbol}`, (message: ChannelMessage) =>
      queueBook({ symbol, message: message as unknown as BookMessage }),
    ),
    live.subscribe(`trades.${symbol}`, (message) => queueTrades({ symbol, trades: message["data"] as Trade[] })),
    live.subscribe(`ticker.${symbol}`, (message) => queueTicker(message["data"] as Ticker)),
  ];
  return () => stops.forEach((stop) => stop());
}
