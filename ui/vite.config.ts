import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// `npm run dev` serves the UI for `tauri dev` (devUrl http://localhost:5173 in tauri.conf.json).
// `npm run dev:mock` (mode `preview-mock`) swaps `@tauri-apps/api/core` for src/dev-mock.ts so
// the UI runs in a plain browser with fake data; that mode never writes to dist/.
export default defineConfig(({ mode }) => {
  const mock = mode === "preview-mock";
  return {
    base: "./",
    clearScreen: false,
    resolve: mock
      ? {
          alias: {
            "@tauri-apps/api/core": fileURLToPath(new URL("./src/dev-mock.ts", import.meta.url)),
          },
        }
      : {},
    server: { port: 5173, strictPort: true },
    build: {
      outDir: mock ? "dist-preview-mock" : "dist",
      emptyOutDir: true,
      target: "es2022",
      sourcemap: false,
      chunkSizeWarningLimit: 300,
    },
    test: {
      environment: "node",
      include: ["src/**/*.test.ts"],
      // Local-time formatting and the schedule's UTC conversion are tested in a zone with DST.
      env: { TZ: "Europe/Oslo" },
    },
  };
});
