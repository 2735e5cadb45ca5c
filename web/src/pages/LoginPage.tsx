// Log in with an account's API key; an admin token as well unlocks the Risk page.
import { useState, type FormEvent } from "react";
import { errorMessage } from "../api/client";
import { Button, Field, Input } from "../components/ui";
import { useSession } from "../store/session";

export function LoginPage() {
  const login = useSession((state) => state.login);
  const [apiKey, setApiKey] = useState("");
  const [adminToken, setAdminToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!apiKey.trim()) {
      setError("Enter your API key");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await login(apiKey.trim(), adminToken.trim() || null);
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="flex h-full items-center justify-center p-4">
      <form onSubmit={submit} className="flex w-full max-w-sm flex-col gap-3 rounded border border-edge bg-panel p-6">
        <h1 className="text-lg font-semibold">
          <span className="text-emerald-400">hft</span> trading
        </h1>
        <p className="text-xs text-zinc-400">
          Log in with your account's API key. <code>hft serve</code> prints the demo account's key on first start;
          <code> hft account create NAME</code> makes another.
        </p>
        <Field label="API key">
          <Input
            name="api_key"
            type="password"
            autoComplete="off"
            autoFocus
            value={apiKey}
            onChange={(event) => setApiKey(event.target.value)}
          />
        </Field>
        <Field label="Admin token (optional, for the Risk page)">
          <Input
            name="admin_token"
            type="password"
            autoComplete="off"
            value={adminToken}
            onChange={(event) => setAdminToken(event.target.value)}
          />
        </Field>
        {error && (
          <p role="alert" className="text-xs text-rose-400">
            {error}
          </p>
        )}
        <Button type="submit" tone="primary" disabled={busy}>
          {busy ? "Checking…" : "Log in"}
        </Button>
      </form>
    </div>
  );
}
