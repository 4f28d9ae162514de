/**
 * The fixed world the browser tests run against: users, projects, targets.
 * Created by the global setup through the server's CLI on a throw-away database.
 *
 * Project tokens sort after `demo` on purpose: `/` sends a user to their first
 * project by token, and the tests expect that to be `demo`.
 */
import path from 'node:path';

export const ADMIN = { email: 'admin@example.com', password: 'e2e-Admin-pass-1' };
export const SUPPORT = { email: 'support@example.com', password: 'e2e-Support-pass-1' };
/** The instance's owner: creates projects, admin of every project. */
export const OWNER = { email: 'owner@example.com', password: 'e2e-Owner-pass-1' };
/** The operator's support engineer: reads every project. */
export const STAFF = { email: 'staff@example.com', password: 'e2e-Staff-pass-1' };
/** One editor per browser project for the two-step sign-in journey (it changes how they sign in). */
export const TWO_STEP_PROJECTS = ['hydrated', 'no-js', 'phone'] as const;
export function twoStepUser(project: string): { email: string; password: string } {
  return { email: `two-step-${project}@example.com`, password: 'e2e-TwoStep-pass-1' };
}
/** The passkey journey's editor, one per attempt (a retry starts without passkeys). */
export const PASSKEY_ATTEMPTS = [0, 1] as const;
export function passkeyUser(attempt: number): { email: string; password: string } {
  return { email: `passkey-${attempt}@example.com`, password: 'e2e-Passkey-pass-1' };
}

/** The sample project: every target succeeds. */
export const DEMO = 'demo';
/** Every invalidation here ends in ERROR_CDN_NODE (its webhook always answers 500). */
export const FAILING = 'failing';
/** Per Playwright project, so the hydrated and no-JS Retry tests never share a switchable target. */
export function flakyToken(playwrightProject: string): string {
  return playwrightProject === 'no-js' ? 'flaky-nojs' : 'flaky-js';
}
export const FLAKY_TOKENS = ['flaky-js', 'flaky-nojs'] as const;

/** Environment shared by the config (runner), the global setup and the workers. */
export const env = {
  get baseURL(): string {
    return must('IMGFLUSH_E2E_BASE_URL');
  },
  get targetsURL(): string {
    return must('IMGFLUSH_E2E_TARGETS_URL');
  },
  get stateDir(): string {
    return must('IMGFLUSH_E2E_DIR');
  },
};

export function storageState(who: 'admin' | 'support' | 'owner' | 'staff'): string {
  return path.join(env.stateDir, `${who}.storage.json`);
}

function must(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests through playwright.config.ts (npx playwright test)`);
  return v;
}
