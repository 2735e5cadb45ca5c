// Placeholder until the page is built.
import { Panel } from "../components/ui";

export function TradingPage() {
  return <Panel title="Trading">Coming next</Panel>;
}
