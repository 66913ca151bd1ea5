import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { afterEach } from 'vitest';
import { useSessionStore } from '../stores/session';
import { FakeWebSocket } from './fakeWebSocket';

// Whole-app renders on a busy two-core CI machine can take longer than the 1 s default.
configure({ asyncUtilTimeout: 4_000 });

// No test opens a real connection: pages with a live feed talk to this fake, which a test
// can drive as the server.
globalThis.WebSocket = FakeWebSocket as unknown as typeof WebSocket;

afterEach(() => {
  cleanup();
  useSessionStore.setState({ session: null, notice: null });
  sessionStorage.clear();
  FakeWebSocket.reset();
});
