// The logged-in account's own orders, executions and positions, loaded over REST and kept live over /ws.
import { create } from "zustand";
import { api, type Execution, type Order, type Position, unwrap } from "../api/client";
import { batcher } from "../lib/batch";
import { live } from "../live/socket";
import { useSession } from "./session";

/** Executions kept in memory for the live table (the Executions page pages through the full history). */
export const LIVE_EXECUTIONS = 500;

interface AccountState {
  /** Every order seen this session, by id: the working ones plus those that changed or were listed. */
  orders: Record<number, Order>;
  executions: Execution[];
  positions: Record<string, Position>;
  load: () => Promise<void>;
  clear: () => void;
  upsertOrder: (order: Order) => void;
}

export const useAccount = create<AccountState>((set) => ({
  orders: {},
  executions: [],
  positions: {},
  async load() {
    const [orders, executions, positions] = await Promise.all([
      api.GET("/api/orders", { params: { query: { open: true, limit: 1000 } } }).then(unwrap),
      api.GET("/api/executions", { params: { query: { limit: LIVE_EXECUTIONS } } }).then(unwrap),
      api.GET("/api/positions").then(unwrap),
    ]);
    set({
      orders: Object.fromEntries(orders.orders.map((order) => [order.order_id, order])),
      executions: executions.executions,
      positions: Object.fromEntries(positions.map((position) => [position.symbol, position])),
    });
  },
  clear() {
    set({ orders: {}, executions: [], positions: {} });
  },
  upsertOrder(order) {
    set((state) => ({ orders: { ...state.orders, [order.order_id]: newer(state.orders[order.order_id], order) } }));
  },
}));

/** Keep the later of two versions of an order (a REST answer and a live update may arrive in either order). */
function newer(known: Order | undefined, incoming: Order): Order {
  if (!known) return incoming;
  return Date.parse(incoming.updated_at) >= Date.parse(known.updated_at) ? incoming : known;
}

const queueOrders = batcher<Order>((items) => {
  const orders = { ...useAccount.getState().orders };
  for (const order of items) orders[order.order_id] = newer(orders[order.order_id], order);
  useAccount.setState({ orders });
});

const queueExecutions = batcher<Execution>((items) => {
  const known = useAccount.getState().executions;
  const seen = new Set(known.map((execution) => execution.execution_id));
  const fresh = items.filter((execution) => !seen.has(execution.execution_id)).reverse();
  useAccount.setState({ executions: [...fresh, ...known].slice(0, LIVE_EXECUTIONS) });
  void useSession.getState().refreshAccount();
});

const queuePositions = batcher<Position>((items) => {
  const positions = { ...useAccount.getState().positions };
  for (const position of items) positions[position.symbol] = position;
  useAccount.setState({ positions });
});

/** Follow the account's private channels until the returned function is called. */
export function followAccount(): () => void {
  const stops = [
    live.subscribe("orders", (message) => queueOrders(message["data"] as Order)),
    live.subscribe("executions", (message) => queueExecutions(message["data"] as Execution)),
    live.subscribe("positions", (message) => queuePositions(message["data"] as Position)),
  ];
  void useAccount.getState().load();
  return () => stops.forEach((stop) => stop());
}
