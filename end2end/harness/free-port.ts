import { execFileSync } from 'node:child_process';

/**
 * A free loopback port, found synchronously (the config is evaluated synchronously,
 * once in the runner and again in each worker; the runner's choice is passed on
 * through the environment). The OS hands out port 0; the tiny window before the
 * server binds it again is acceptable for a test run. The port is written as a
 * string: a number logged under FORCE_COLOR (Playwright workers) comes out in colour.
 */
export function freePortSync(): number {
  const out = execFileSync(
    process.execPath,
    ['-e', "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})"],
    { encoding: 'utf8' },
  );
  const port = Number(out.trim());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`could not find a free port: ${out}`);
  return port;
}
