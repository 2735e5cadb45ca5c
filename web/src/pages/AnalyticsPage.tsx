// Placeholder until the page is built.
import { Panel } from "../components/ui";

export function AnalyticsPage() {
  return <Panel title="Analytics">Coming next</Panel>;
}
