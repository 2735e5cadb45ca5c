// One WebSocket to /ws for the whole app: authenticates, keeps subscriptions across reconnects, fans messages out.

export interface ChannelMessage {
  channel: string;
  type: string;
  [field: string]: unknown;
}

export type Listener = (message: ChannelMessage) => void;
export type ConnectionStatus = "connecting" | "open" | "closed";

const RECONNECT_DELAYS_MS = [250, 500, 1000, 2000, 5000];

export class LiveSocket {
  private socket: WebSocket | null = null;
  private apiKey: string | null = null;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly statusListeners = new Set<(status: ConnectionStatus) => void>();
  private attempts = 0;
  /** True once authenticated (or connected anonymously): only then are subscriptions sent. */
  private ready = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  status: ConnectionStatus = "closed";

  constructor(private readonly url: string) {}

  /** Connect (again) as the account of `apiKey`, or anonymously for market channels only. */
  connect(apiKey: string | null): void {
    this.apiKey = apiKey;
    this.disconnect();
    this.open();
  }

  disconnect(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, "bye");
    }
    this.setStatus("closed");
  }

  /** Receive every message of `channel` until the returned function is called. */
  subscribe(channel: string, listener: Listener): () => void {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      this.send({ op: "subscribe", channels: [channel] });
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(channel);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) {
        this.listeners.delete(channel);
        this.send({ op: "unsubscribe", channels: [channel] });
      }
    };
  }

  /** Ask for a fresh start of `channel` (a book that missed an update wants a new snapshot). */
  resubscribe(channel: string): void {
    this.send({ op: "unsubscribe", channels: [channel] });
    this.send({ op: "subscribe", channels: [channel] });
  }

  onStatus(listener: (status: ConnectionStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  private open(): void {
    this.setStatus("connecting");
    this.ready = false;
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.attempts = 0;
      if (this.apiKey) socket.send(JSON.stringify({ op: "auth", api_key: this.apiKey }));
      else this.subscribeAll();
    };
    socket.onmessage = (event) => this.receive(String(event.data));
    socket.onclose = () => {
      this.socket = null;
      this.ready = false;
      this.setStatus("closed");
      const delay = RECONNECT_DELAYS_MS[Math.min(this.attempts, RECONNECT_DELAYS_MS.length - 1)];
      this.attempts += 1;
      this.reconnectTimer = setTimeout(() => this.open(), delay);
    };
  }

  private receive(raw: string): void {
    const message = JSON.parse(raw) as ChannelMessage;
    if (message.type === "authenticated") {
      this.subscribeAll();
      return;
    }
    if (message.type === "subscribed") {
      this.setStatus("open");
      return;
    }
    if (message.type === "error") console.warn("live updates:", message["error"], message["message"]);
    const listeners = message.channel ? this.listeners.get(message.channel) : undefined;
    listeners?.forEach((listener) => listener(message));
  }

  private subscribeAll(): void {
    this.ready = true;
    this.send({ op: "subscribe", channels: [...this.listeners.keys()] });
  }

  private send(message: object): void {
    if (this.ready && this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.statusListeners.forEach((listener) => listener(status));
  }
}

function socketUrl(): string {
  const location = globalThis.location;
  if (!location) return "ws://127.0.0.1:8000/ws";
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
}

export const live = new LiveSocket(socketUrl());
