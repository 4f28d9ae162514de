/**
 * Finds the built site directory and the server binary.
 *
 * cargo-leptos 0.3.11 writes the site to `<workspace>/<site-root>` (`target/site`,
 * relative to the workspace root, NOT to CARGO_TARGET_DIR), while cargo puts the
 * binary in `$CARGO_TARGET_DIR/{debug,release}/server` (default `<workspace>/target`).
 * Explicit overrides: IMGFLUSH_SITE_ROOT, IMGFLUSH_SERVER_BIN; IMGFLUSH_PROFILE=debug|release
 * picks the profile (otherwise the most recently built binary wins).
 */
import fs from 'node:fs';
import path from 'node:path';

export const WORKSPACE = path.resolve(__dirname, '..', '..');
export const OUTPUT_NAME = 'imgflush';

function mtime(p: string): number {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return -1;
  }
}

function targetDirs(): string[] {
  const dirs: string[] = [];
  if (process.env.CARGO_TARGET_DIR) dirs.push(path.resolve(WORKSPACE, process.env.CARGO_TARGET_DIR));
  dirs.push(path.join(WORKSPACE, 'target'));
  dirs.push('/root/.cache/imgflush/target'); // the default used on the project's machines
  return [...new Set(dirs)];
}

export function siteCandidates(): string[] {
  return [
    ...new Set([
      path.join(WORKSPACE, 'target', 'site'),
      ...targetDirs().map((d) => path.join(d, 'site')),
    ]),
  ];
}

/** A site dir is usable when it holds the hydrate bundle (the stylesheet is not needed by the tests). */
function siteIsBuilt(dir: string): boolean {
  const pkg = path.join(dir, 'pkg');
  return fs.existsSync(path.join(pkg, `${OUTPUT_NAME}.js`)) && fs.existsSync(path.join(pkg, `${OUTPUT_NAME}.wasm`));
}

export function locateSite(): string {
  const env = process.env.IMGFLUSH_SITE_ROOT;
  if (env) {
    const dir = path.resolve(WORKSPACE, env);
    if (!siteIsBuilt(dir)) throw new Error(`IMGFLUSH_SITE_ROOT=${env}: no pkg/${OUTPUT_NAME}.{js,wasm} in ${dir}`);
    return dir;
  }
  const built = siteCandidates().filter(siteIsBuilt);
  if (built.length === 0) {
    throw new Error(
      `No built site found (looked for pkg/${OUTPUT_NAME}.{js,wasm} in ${siteCandidates().join(', ')}).\n` +
        'Build it first: cd <repo> && cargo leptos build --split',
    );
  }
  return built.sort((a, b) => mtime(path.join(b, 'pkg', `${OUTPUT_NAME}.wasm`)) - mtime(path.join(a, 'pkg', `${OUTPUT_NAME}.wasm`)))[0];
}

export function binaryCandidates(): string[] {
  const profiles = process.env.IMGFLUSH_PROFILE ? [process.env.IMGFLUSH_PROFILE] : ['debug', 'release'];
  return targetDirs().flatMap((d) => profiles.map((p) => path.join(d, p, 'server')));
}

export function locateServer(): string {
  const env = process.env.IMGFLUSH_SERVER_BIN;
  if (env) {
    const bin = path.resolve(WORKSPACE, env);
    if (!fs.existsSync(bin)) throw new Error(`IMGFLUSH_SERVER_BIN=${env}: ${bin} does not exist`);
    return bin;
  }
  const found = binaryCandidates().filter((p) => fs.existsSync(p));
  if (found.length === 0) {
    throw new Error(
      `No server binary found (looked in ${binaryCandidates().join(', ')}).\n` +
        'Build it first: cd <repo> && cargo leptos build --split  (set CARGO_TARGET_DIR the same way for the build and the tests)',
    );
  }
  return found.sort((a, b) => mtime(b) - mtime(a))[0];
}
