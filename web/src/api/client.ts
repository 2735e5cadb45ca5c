// The REST client: typed by schema.d.ts, which `npm run generate` makes from the server's openapi.json.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Order = Schemas["OrderResponse"];
export type OrderRequest = Schemas["OrderRequest"];
export type Execution = Schemas["ExecutionResponse"];
export type Position = Schemas["PositionResponse"];
export type Account = Schemas["AccountResponse"];
export type Instrument = Schemas["InstrumentResponse"];
export type Trade = Schemas["TradeResponse"];
export type Ticker = Schemas["TickerResponse"];
export type Book = Schemas["BookResponse"];
export type RiskLimits = Schemas["RiskLimitsBody"];
export type Health = Schemas["HealthResponse"];

/** An error the API answered with: its HTTP status, stable code and human message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Credentials the requests carry: the account's API key, and the admin token for /api/admin. */
export const credentials: { apiKey: string | null; adminToken: string | null } = { apiKey: null, adminToken: null };

const authenticate: Middleware = {
  onRequest({ request }) {
    if (new URL(request.url).pathname.startsWith("/api/admin")) {
      if (credentials.adminToken) request.headers.set("Authorization", `Bearer ${credentials.adminToken}`);
    } else if (credentials.apiKey) {
      request.headers.set("X-API-Key", credentials.apiKey);
    }
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: globalThis.location?.origin ?? "" });
api.use(authenticate);

/** Return a response's data, or throw an ApiError carrying the server's error code and message. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || result.data === undefined) {
    throw toApiError(result.response, result.error);
  }
  return result.data;
}

export function toApiError(response: Response, body: unknown): ApiError {
  if (body && typeof body === "object" && "message" in body) {
    const error = body as { error?: string; message: string };
    return new ApiError(response.status, error.error ?? "ERROR", error.message);
  }
  return new ApiError(response.status, "HTTP_" + response.status, response.statusText || "request failed");
}

/** A message fit to show a user for anything a request threw. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
