/** Runs the compiled `andon` CLI as a child process, with a deadline. */
import { spawn } from 'node:child_process';
import { CLI } from './paths.js';

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * `andon <args>` with `env` on top of a clean environment (the caller's ANDON_* variables are
 * removed, so a developer's token or URL cannot leak into a test). Rejects after `ms`.
 */
export function runCli(args: string[], env: Record<string, string> = {}, ms = 20_000): Promise<CliRun> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ANDON_') && k !== 'OPS_PORT'));
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`andon ${args.join(' ')} did not finish within ${ms} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, ms);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
