/**
 * Runs a script of cloud/ (Temporal's `@temporalio/cloud` client, unmodified) in a process of its
 * own, trusting the development CA, and returns the JSON object its last output line holds.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

export function runCloudScenario(script: string, args: string[], caFile: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.resolve(__dirname, '../cloud', script), ...args], {
      // grpc-js reads the roots file when it loads: the Cloud client trusts the development CA through it.
      env: { ...process.env, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: caFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`the Cloud client scenario ${script} failed (exit ${code}):\n${err.slice(-4000)}\n${out.slice(-2000)}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as Record<string, unknown>);
      } catch {
        reject(new Error(`no result line from the scenario ${script}:\n${out.slice(-2000)}`));
      }
    });
  });
}
