// Who is logged in: the account behind the API key, and the admin token if one was given.
import { create } from "zustand";
import { api, credentials, type Account, unwrap } from "../api/client";

const STORAGE_KEY = "hft.session";

interface Stored {
  apiKey: string;
  adminToken: string | null;
}

interface SessionState {
  apiKey: string | null;
  adminToken: string | null;
  account: Account | null;
  /** Check the key against the server (and the admin token, if given), then keep both for this browser tab. */
  login: (apiKey: string, adminToken: string | null) => Promise<void>;
  logout: () => void;
  /** Re-read the account (balances, P&L) after something changed it. */
  refreshAccount: () => Promise<void>;
  /** Restore a session saved by an earlier login in this tab; false if there is none or it no longer works. */
  restore: () => Promise<boolean>;
}

export const useSession = create<SessionState>((set, get) => ({
  apiKey: null,
  adminToken: null,
  account: null,
  async login(apiKey, adminToken) {
    credentials.apiKey = apiKey;
    credentials.adminToken = adminToken;
    try {
      const account = unwrap(await api.GET("/api/account"));
      if (adminToken) unwrap(await api.GET("/api/admin/risk-limits"));
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ apiKey, adminToken } satisfies Stored));
      set({ apiKey, adminToken, account });
    } catch (error) {
      credentials.apiKey = null;
      credentials.adminToken = null;
      throw error;
    }
  },
  logout() {
    sessionStorage.removeItem(STORAGE_KEY);
    credentials.apiKey = null;
    credentials.adminToken = null;
    set({ apiKey: null, adminToken: null, account: null });
  },
  async refreshAccount() {
    if (!get().apiKey) return;
    const account = unwrap(await api.GET("/api/account"));
    if (get().apiKey) set({ account });
  },
  async restore() {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return false;
    try {
      const stored = JSON.parse(raw) as Stored;
      await get().login(stored.apiKey, stored.adminToken);
      return true;
    } catch {
      sessionStorage.removeItem(STORAGE_KEY);
      return false;
    }
  },
}));
