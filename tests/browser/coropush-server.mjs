// Runs the coropush executable for the Node test scripts: started with their arguments, ready once
// its log says where it listens, stopped with SIGTERM.
import { spawn } from 'node:child_process';
import { once } from 'node:events';

// Starts `executable` with `args` (and --log-level info) and resolves once it listens.
export async function startServer(executable, args) {
  const child = spawn(executable, ['--log-level', 'info', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`coropush did not start:\n${log}`)), 10_000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      log += chunk;
      const match = log.match(/listening on \S+:(\d+)/);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`coropush exited with ${code}:\n${log}`)));
  });
  return {
    port,
    log: () => log,
    // The value of a metric without labels in /metrics (undefined when absent).
    async metric(name) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const match = text.match(new RegExp(`^${name} (\\d+)$`, 'm'));
      return match ? Number(match[1]) : undefined;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    },
  };
}
