// Placeholder until the page is built.
import { Panel } from "../components/ui";

export function PositionsPage() {
  return <Panel title="Positions">Coming next</Panel>;
}
