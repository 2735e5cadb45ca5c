// Which page is showing: kept in the URL's hash (#/trading), so reload and the back button work.
import { create } from "zustand";

export const PAGES = ["trading", "positions", "executions", "analytics", "monitoring", "risk"] as const;
export type Page = (typeof PAGES)[number];

export const PAGE_TITLES: Record<Page, string> = {
  trading: "Trading",
  positions: "Positions",
  executions: "Executions",
  analytics: "Analytics",
  monitoring: "Monitoring",
  risk: "Risk",
};

export function pageFromHash(hash: string): Page {
  const name = hash.replace(/^#\/?/, "").split("?")[0] ?? "";
  return (PAGES as readonly string[]).includes(name) ? (name as Page) : "trading";
}

interface RouteState {
  page: Page;
  go: (page: Page) => void;
}

export const useRoute = create<RouteState>((set) => ({
  page: pageFromHash(globalThis.location?.hash ?? ""),
  go(page) {
    globalThis.location.hash = `/${page}`;
    set({ page });
  },
}));

globalThis.addEventListener?.("hashchange", () => useRoute.setState({ page: pageFromHash(globalThis.location.hash) }));
