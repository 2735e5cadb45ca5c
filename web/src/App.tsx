// The shell: log in, then a page at a time with a navigation bar, the account summary and the live status.
import { useEffect, useState } from "react";
import { live, type ConnectionStatus } from "./live/socket";
import { AnalyticsPage } from "./pages/AnalyticsPage";
import { ExecutionsPage } from "./pages/ExecutionsPage";
import { LoginPage } from "./pages/LoginPage";
import { MonitoringPage } from "./pages/MonitoringPage";
import { PositionsPage } from "./pages/PositionsPage";
import { RiskPage } from "./pages/RiskPage";
import { TradingPage } from "./pages/TradingPage";
import { followAccount, useAccount } from "./store/account";
import { useMarket } from "./store/market";
import { PAGE_TITLES, PAGES, type Page, useRoute } from "./store/route";
import { useSession } from "./store/session";
import { Signed } from "./components/ui";

const PAGE_VIEWS: Record<Page, () => React.JSX.Element> = {
  trading: TradingPage,
  positions: PositionsPage,
  executions: ExecutionsPage,
  analytics: AnalyticsPage,
  monitoring: MonitoringPage,
  risk: RiskPage,
};

export function App() {
  const apiKey = useSession((state) => state.apiKey);
  const [restoring, setRestoring] = useState(true);

  useEffect(() => {
    void useSession
      .getState()
      .restore()
      .finally(() => setRestoring(false));
  }, []);

  useEffect(() => {
    if (!apiKey) return;
    live.connect(apiKey);
    void useMarket.getState().loadInstruments();
    const stop = followAccount();
    return () => {
      stop();
      live.disconnect();
      useAccount.getState().clear();
    };
  }, [apiKey]);

  if (restoring) return null;
  if (!apiKey) return <LoginPage />;
  return <Shell />;
}

function Shell() {
  const page = useRoute((state) => state.page);
  const go = useRoute((state) => state.go);
  const adminToken = useSession((state) => state.adminToken);
  const View = PAGE_VIEWS[page];
  const pages = PAGES.filter((name) => name !== "risk" || adminToken);
  return (
    <div className="flex h-full flex-col">
      <nav className="flex flex-wrap items-center gap-x-4 gap-y-1 border-b border-edge bg-panel px-3 py-1.5">
        <span className="font-semibold tracking-tight text-emerald-400">hft</span>
        <ul className="flex flex-wrap gap-1">
          {pages.map((name) => (
            <li key={name}>
              <a
                href={`#/${name}`}
                onClick={(event) => {
                  event.preventDefault();
                  go(name);
                }}
                aria-current={page === name ? "page" : undefined}
                className="rounded px-2 py-1 text-zinc-400 hover:text-zinc-100 aria-[current=page]:bg-zinc-800 aria-[current=page]:text-zinc-50"
              >
                {PAGE_TITLES[name]}
              </a>
            </li>
          ))}
        </ul>
        <AccountSummary />
      </nav>
      <main className="min-h-0 flex-1 overflow-auto p-2">{page === "risk" && !adminToken ? <TradingPage /> : <View />}</main>
    </div>
  );
}

function AccountSummary() {
  const account = useSession((state) => state.account);
  const logout = useSession((state) => state.logout);
  const status = useConnectionStatus();
  return (
    <div className="ml-auto flex items-center gap-4 text-xs">
      {account && (
        <>
          <span data-testid="account-name" className="text-zinc-300">
            {account.name} <span className="text-zinc-500">#{account.account_id}</span>
          </span>
          <span className="hidden sm:inline">
            <span className="text-zinc-500">Equity </span>
            <span className="num">{account.equity}</span>
          </span>
          <span className="hidden sm:inline">
            <span className="text-zinc-500">P&L </span>
            <Signed value={Number(account.realized_pnl) + Number(account.unrealized_pnl)}>
              {(Number(account.realized_pnl) + Number(account.unrealized_pnl)).toFixed(2)}
            </Signed>
          </span>
        </>
      )}
      <span data-testid="connection" title={`live updates: ${status}`} className="flex items-center gap-1">
        <span
          className={`inline-block h-2 w-2 rounded-full ${status === "open" ? "bg-emerald-400" : status === "connecting" ? "bg-amber-400" : "bg-rose-500"}`}
        />
        <span className="text-zinc-500">{status === "open" ? "live" : status}</span>
      </span>
      <button onClick={logout} className="text-zinc-400 hover:text-zinc-100">
        Log out
      </button>
    </div>
  );
}

function useConnectionStatus(): ConnectionStatus {
  const [status, setStatus] = useState<ConnectionStatus>(live.status);
  useEffect(() => live.onStatus(setStatus), []);
  return status;
}
