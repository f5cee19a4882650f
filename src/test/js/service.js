// Starts the real service (the packaged jar) and, when redis-server is on PATH, a Redis for it.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
export const JAR = process.env.COPRESENCE_JAR ?? path.resolve(here, '../../../target/quarkus-app/quarkus-run.jar');

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls until fn() is truthy (or throws after timeout ms). */
export async function until(fn, { timeout = 10000, every = 20, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(every);
  }
}

export function hasRedis() {
  return spawnSync('redis-server', ['--version']).status === 0;
}

export async function startRedis() {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await until(async () => {
    try {
      const { Socket } = await import('node:net');
      return await new Promise((resolve) => {
        const s = new Socket();
        s.once('error', () => resolve(false));
        s.connect(port, '127.0.0.1', () => {
          s.end();
          resolve(true);
        });
      });
    } catch {
      return false;
    }
  }, { what: 'redis-server' });
  return { url: `redis://127.0.0.1:${port}`, stop: () => proc.kill('SIGKILL') };
}

/** One node of the service on `port`; start() waits until it answers. */
export class Node {
  constructor(port, env = {}) {
    this.port = port;
    this.env = env;
    this.proc = null;
    this.log = '';
  }

  get http() {
    return `http://127.0.0.1:${this.port}`;
  }

  get ws() {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  async start() {
    if (!existsSync(JAR)) throw new Error(`${JAR} is missing: run ./mvnw package first`);
    this.proc = spawn('java', ['-jar', JAR], {
      env: { ...process.env, QUARKUS_HTTP_PORT: String(this.port), COPRESENCE_TYPING_TTL: '2s', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout.on('data', (d) => (this.log += d));
    this.proc.stderr.on('data', (d) => (this.log += d));
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.exited = exited;
    await until(async () => {
      if (this.proc.exitCode !== null) throw new Error(`the service exited:\n${this.log}`);
      try {
        return (await fetch(`${this.http}/q/health/ready`)).ok;
      } catch {
        return false;
      }
    }, { timeout: 60000, every: 100, what: `the service on port ${this.port}` });
    return this;
  }

  /** SIGTERM: a graceful drain (clients get 1001). */
  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill('SIGTERM');
    await Promise.race([this.exited, sleep(10000)]);
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }

  async broadcast(doc, data) {
    const r = await fetch(`${this.http}/api/documents/${doc}/broadcast`, { method: 'POST', body: JSON.stringify({ data }) });
    return (await r.json()).offset;
  }
}
