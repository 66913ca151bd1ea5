import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// The backend serves the API, health and metrics on the same origin as the app, so in
// development every server-owned path is forwarded to a locally running `factoryops serve`.
const backend = process.env.FACTORYOPS_DEV_BACKEND ?? 'http://127.0.0.1:8000';
const serverPaths = ['/api/', '/api-docs/', '/health', '/metrics'];

export default defineConfig({
  plugins: [react(), tailwindcss()],
  server: {
    // `ws` forwards WebSocket upgrades too: the live feed is `/api/v1/ws`.
    proxy: Object.fromEntries(
      serverPaths.map((path) => [path, { target: backend, ws: path === '/api/' }]),
    ),
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
    restoreMocks: true,
    // Whole-app renders share two cores with compiler jobs in CI; 5 s is too tight there.
    testTimeout: 15_000,
  },
});
