// Placeholder until the page is built.
import { Panel } from "../components/ui";

export function ExecutionsPage() {
  return <Panel title="Executions">Coming next</Panel>;
}
