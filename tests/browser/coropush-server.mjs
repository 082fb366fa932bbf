// Runs the coropush executable for the Node test scripts: started with their arguments, ready once
// its log says where it listens, stopped with SIGTERM.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import https from 'node:https';

// A GET over HTTPS trusting `ca` (fetch has no option for a CA of its own); resolves with the body.
function getOverTls(url, ca) {
  return new Promise((resolve, reject) => {
    https.get(url, { ca }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { body += chunk; });
      response.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

// Starts `executable` with `args` (and --log-level info) and resolves once it listens. `ca`: the
// server runs with --tls-cert, and its /metrics is read over HTTPS trusting this CA (PEM).
export async function startServer(executable, args, { ca } = {}) {
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
      const text = ca ? await getOverTls(`https://127.0.0.1:${port}/metrics`, ca)
        : await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
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
