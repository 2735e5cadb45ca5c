/// <reference types="vitest/config" />
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves the dashboard with hot reload and forwards the API to an `hft serve` on port 8000.
const venue = process.env.VENUE_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  build: {
    // hft serve serves these files at / (hft.dashboard); they ship inside the Python package.
    outDir: "../src/hft/dashboard/static",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: {
      "/api": venue,
      "/health": venue,
      "/metrics": venue,
      "/ws": { target: venue.replace(/^http/, "ws"), ws: true },
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
