// Placeholder until the page is built.
import { Panel } from "../components/ui";

export function RiskPage() {
  return <Panel title="Risk">Coming next</Panel>;
}
