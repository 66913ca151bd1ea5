import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { afterEach } from 'vitest';
import { useSessionStore } from '../stores/session';

// Whole-app renders on a busy two-core CI machine can take longer than the 1 s default.
configure({ asyncUtilTimeout: 4_000 });

afterEach(() => {
  cleanup();
  useSessionStore.setState({ session: null, notice: null });
  sessionStorage.clear();
});
