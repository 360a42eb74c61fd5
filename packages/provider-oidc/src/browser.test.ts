// When the login may try a browser: a desktop session, never over SSH or on a headless Linux.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canOpenBrowser } from './browser.js';

test('a browser is tried only where one can appear', () => {
  assert.equal(canOpenBrowser({}, 'linux'), false, 'headless Linux');
  assert.equal(canOpenBrowser({ DISPLAY: ':0' }, 'linux'), true);
  assert.equal(canOpenBrowser({ WAYLAND_DISPLAY: 'wayland-0' }, 'linux'), true);
  assert.equal(canOpenBrowser({ DISPLAY: ':0', SSH_CONNECTION: '10.0.0.1 22 10.0.0.2 5555' }, 'linux'), false);
  assert.equal(canOpenBrowser({}, 'darwin'), true);
  assert.equal(canOpenBrowser({ SSH_TTY: '/dev/pts/1' }, 'darwin'), false);
  assert.equal(canOpenBrowser({}, 'win32'), true);
});
