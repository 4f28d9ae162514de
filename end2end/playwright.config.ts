import os from 'node:os';
import path from 'node:path';
import { defineConfig, devices } from '@playwright/test';

import { freePortSync } from './harness/free-port';

// Evaluated in the runner first: choose ports and a scratch directory once and hand
// them to the workers (which re-read this file) through the environment.
if (!process.env.IMGFLUSH_E2E_BASE_URL) {
  process.env.IMGFLUSH_E2E_BASE_URL = `http://127.0.0.1:${freePortSync()}`;
}
if (!process.env.IMGFLUSH_E2E_TARGETS_URL) {
  process.env.IMGFLUSH_E2E_TARGETS_URL = `http://127.0.0.1:${freePortSync()}`;
}
if (!process.env.IMGFLUSH_E2E_DIR) {
  // Created by the global setup, removed by its teardown.
  const id = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  process.env.IMGFLUSH_E2E_DIR = path.join(os.tmpdir(), `imgflush-e2e-${id}`);
}

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: './tests',
  globalSetup: './harness/global-setup.ts',
  // Two cores: one browser per worker next to the server and its worker.
  workers: Number(process.env.E2E_WORKERS ?? 2),
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  // CI (.ci/run) retries a failed test once and the report names it
  // "flaky"; a test that fails twice fails the run.
  retries: Number(process.env.IMGFLUSH_E2E_RETRIES ?? 0),
  timeout: 45_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['html', { open: 'never' }]],
  use: {
    ...devices['Desktop Chrome'],
    baseURL: process.env.IMGFLUSH_E2E_BASE_URL,
    actionTimeout: 10_000,
    navigationTimeout: 20_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: chromium,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
      ],
    },
  },
  projects: [
    // no-js.spec.ts is about the HTML the server sends to browsers without JavaScript.
    { name: 'hydrated', use: { javaScriptEnabled: true }, testIgnore: /no-js\.spec\.ts/ },
    { name: 'no-js', use: { javaScriptEnabled: false } },
    // The everyday journeys again on a phone's screen (390 × 844, hydrated):
    // the same steps must work with the phone layout (cards, the folded menu).
    {
      name: 'phone',
      use: { javaScriptEnabled: true, viewport: { width: 390, height: 844 } },
      testMatch: /(invalidation|retry|failures|support|team|targets|pages|lookup-url)\.spec\.ts/,
    },
  ],
});
