import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

/**
 * The real processes of the durability and concurrency suites: the built
 * entry points (`dist/src/<script>.js`, built by the suites' `npm run build`)
 * started with a clean environment. Their stderr is shown only with
 * TEST_LOG_LEVEL set, so a passing run stays quiet.
 */
const root = join(__dirname, '..', '..');

/** Builds dist/ when a source is newer than it (scripts/build-if-stale.js): suites call it in beforeAll. */
export function buildDist(): void {
  execFileSync(process.execPath, [join(root, 'scripts', 'build-if-stale.js')], { stdio: 'ignore', cwd: root });
}

export function startDist(script: 'main' | 'worker' | 'collector', env: Record<string, string | undefined>): ChildProcess {
  const child = spawn(process.execPath, [join(root, 'dist', 'src', `${script}.js`)], {
    // No nightly sampled check (it has its own suite): its job would run beside the job a suite is timing.
    env: { PATH: process.env.PATH, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn', CHECK_SAMPLE_PER_NIGHT: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (d) => process.env.TEST_LOG_LEVEL && process.stderr.write(d));
  return child;
}

/** Sends the signal and waits for the exit; nothing to do for a process already gone. */
export async function stopProcess(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

/** Polls `check` until it answers true; an error naming `what` past the timeout. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A TCP port nobody listens on right now, on the loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}
