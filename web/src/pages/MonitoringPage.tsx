// Placeholder until the page is built.
import { Panel } from "../components/ui";

export function MonitoringPage() {
  return <Panel title="Monitoring">Coming next</Panel>;
}
