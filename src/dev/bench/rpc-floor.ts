/**
 * R, the RPC floor: a bare nice-grpc unary call (grpc.health.v1 Check) between two processes, at its peak. The echo
 * server stays up for the whole checkout session so that R can be taken in short runs interleaved with the
 * checkout runs (before, between, after them): drift on the box then moves R as it moves the checkouts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createChannel, createClient, type Channel, type Client } from 'nice-grpc';
import { HealthDefinition } from '../../gen/grpc/health/v1/health';
import { closedLoop } from './measures';

export interface RpcFloorRun {
  /** ms since the bench's checkout session started. */
  atMs: number;
  /** Calls per second with 16 and with 64 calls in flight; the run's R is the higher. */
  perSecond: { c16: number; c64: number };
  peak: number;
}

const round = (n: number) => Math.round(n * 100) / 100;

export class RpcFloor {
  private constructor(
    private readonly server: ChildProcess,
    private readonly channel: Channel,
    private readonly client: Client<typeof HealthDefinition>,
  ) {}

  static async start(): Promise<RpcFloor> {
    const server = fork(path.join(__dirname, 'echo-server.js'), { stdio: 'ignore' });
    const port = await new Promise<number>((resolve) => server.once('message', (m: { port: number }) => resolve(m.port)));
    const channel = createChannel(`127.0.0.1:${port}`);
    const floor = new RpcFloor(server, channel, createClient(HealthDefinition, channel));
    await closedLoop(8, 1000, () => floor.client.check({})); // warm up both sides
    return floor;
  }

  /** Latency one call at a time. */
  async single(ms = 3000): Promise<{ p50Ms: number; p99Ms: number }> {
    const single = await closedLoop(1, ms, () => this.client.check({}));
    return { p50Ms: round(single.p50), p99Ms: round(single.p99) };
  }

  /** One short peak run (~2 × `ms`). */
  async run(atMs: number, ms = 2000): Promise<RpcFloorRun> {
    const c16 = Math.round((await closedLoop(16, ms, () => this.client.check({}))).perSecond);
    const c64 = Math.round((await closedLoop(64, ms, () => this.client.check({}))).perSecond);
    return { atMs, perSecond: { c16, c64 }, peak: Math.max(c16, c64) };
  }

  stop(): void {
    this.channel.close();
    this.server.kill();
  }
}
