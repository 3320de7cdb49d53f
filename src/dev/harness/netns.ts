/**
 * Hosts for partition tests: one Linux network namespace per host, all on a
 * private bridge, so links can be cut for real (dropped packets, no RST), which
 * killing or pausing a process cannot show. Dev tooling for the harness, the
 * tests and the chaos soak; no service imports it.
 *
 * One `HostNetwork` per started system, named `cw<pid>n<k>` (pid of the process
 * that made it, k a counter), so two systems started at once, by two jest
 * workers or two sessions, never share a name:
 *
 *   root namespace (orchestrator, checkout services, the test)
 *     └─ veth cw<pid>n<k>, 10.a.b.1/24 ──┐
 *   namespace cw<pid>n<k>-bridge: bridge ─┼─ veth ── namespace cw<pid>n<k>-<host>: eth0 10.a.b.(10+i)/24, lo
 *                                         └─ …
 *
 * 10.a.b.0/24 is drawn at random per network and checked against the routes
 * already present, so it exists only inside what the network made. Partitions
 * are two nftables sets per host: packets to an address in `drop_to` are dropped
 * on output, packets from an address in `drop_from` on input. `drop` cuts one
 * direction (asymmetric partitions), `cut` both at once; `heal()` empties every
 * set.
 *
 * Needs root, `ip` (iproute2) and `nft` (nftables); without them `create`
 * throws saying what is missing. Nothing is ever skipped quietly.
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A name is `cw<pid>n<k>`; each namespace adds `-<host>`. */
const NAME = /^cw(\d+)n(\d+)(?:-|$)/;

let created = 0;

/** What this machine lacks to build host networks, or undefined if nothing. */
export function missingForNetworks(): string | undefined {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (network namespaces need CAP_NET_ADMIN; CI runs as root)');
  for (const [tool, pkg] of [
    ['ip', 'iproute2'],
    ['nft', 'nftables'],
  ]) {
    if (spawnSync(tool, ['-V'], { stdio: 'ignore' }).error) missing.push(`\`${tool}\` (apt-get install ${pkg})`);
  }
  return missing.length ? `network partition tests need ${missing.join(', ')}` : undefined;
}

async function ip(...args: string[]): Promise<string> {
  try {
    return (await run('ip', args)).stdout;
  } catch (err) {
    throw new Error(`ip ${args.join(' ')}: ${((err as { stderr?: string }).stderr || (err as Error).message).trim()}`);
  }
}

async function nft(namespace: string, script: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = execFile('ip', ['netns', 'exec', namespace, 'nft', '-f', '-'], (err, _stdout, stderr) =>
      err ? reject(new Error(`nft in ${namespace}: ${(stderr || err.message).trim()}\n${script}`)) : resolve(),
    );
    child.stdin!.end(script);
  });
}

async function namespaces(): Promise<string[]> {
  return (await ip('netns', 'list'))
    .split('\n')
    .map((line) => line.split(' ')[0])
    .filter(Boolean);
}

/** 10.a.b.0/24 with a in 100..249, not overlapping any route this machine already has. */
async function freeSubnet(): Promise<string> {
  const routes = (await ip('-4', '-o', 'route', 'show', 'table', 'all'))
    .split('\n')
    .map((line) => /^(?:\S+ )?(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ net: toInt(m[1]), bits: Number(m[2] ?? 32) }));
  for (let attempt = 0; attempt < 100; attempt++) {
    const prefix = `10.${100 + Math.floor(Math.random() * 150)}.${Math.floor(Math.random() * 256)}`;
    const net = toInt(`${prefix}.0`);
    const overlaps = routes.some((r) => {
      const bits = Math.min(r.bits, 24);
      const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
      return ((r.net & mask) >>> 0) === ((net & mask) >>> 0);
    });
    if (!overlaps) return prefix;
  }
  throw new Error('no free 10.x.y.0/24 found for a test network');
}

function toInt(address: string): number {
  return address.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGKILLs what still runs inside a namespace (processes a test started there and left behind). */
async function killInside(namespace: string): Promise<void> {
  const pids = (await ip('netns', 'pids', namespace).catch(() => '')).split('\n').map(Number).filter((p) => p > 0);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

async function remove(name: string, members: string[]): Promise<void> {
  // The root end first: deleting a namespace frees its links asynchronously, and the next network may want the name.
  await ip('link', 'del', name).catch(() => undefined);
  for (const namespace of members) {
    await killInside(namespace);
    await ip('netns', 'del', namespace).catch(() => undefined);
  }
}

/** Removes the networks of processes that no longer exist (a test run killed before its cleanup). */
export async function sweepStaleNetworks(): Promise<string[]> {
  const stale = new Map<string, string[]>();
  for (const namespace of await namespaces()) {
    const match = NAME.exec(namespace);
    if (!match || alive(Number(match[1]))) continue;
    const name = `cw${match[1]}n${match[2]}`;
    stale.set(name, [...(stale.get(name) ?? []), namespace]);
  }
  for (const [name, members] of stale) await remove(name, members);
  return [...stale.keys()];
}

export class HostNetwork {
  private destroyed = false;
  /** Hosts whose drop sets may hold addresses: only these need emptying on heal. */
  private readonly cutHosts = new Set<string>();

  private constructor(
    /** `cw<pid>n<k>`: the root-side link, and the prefix of every namespace. */
    readonly name: string,
    /** The first three octets of the /24. */
    private readonly prefix: string,
    readonly hosts: readonly string[],
  ) {}

  /** Builds the bridge and one namespace per host; on any failure removes what it made and throws. */
  static async create(hosts: readonly string[]): Promise<HostNetwork> {
    const missing = missingForNetworks();
    if (missing) throw new Error(missing);
    if (hosts.length > 200) throw new Error('at most 200 hosts fit in one /24');
    if (hosts.includes('bridge') || new Set(hosts).size !== hosts.length) throw new Error(`host names must be distinct and not "bridge": ${hosts.join(', ')}`);
    await sweepStaleNetworks();
    const network = new HostNetwork(`cw${process.pid}n${created++}`, await freeSubnet(), hosts);
    try {
      await network.build();
    } catch (err) {
      await network.destroy();
      throw err;
    }
    return network;
  }

  /** The namespace a host runs in, for `ip netns exec` (and the launcher's CAUSEWAY_NETNS_<NAME>). */
  namespace(host: string): string {
    const i = this.hosts.indexOf(host);
    if (i < 0) throw new Error(`${host} is not a host of ${this.name} (${this.hosts.join(', ')})`);
    return `${this.name}-${host}`;
  }

  /** A host's address on the bridge. */
  address(host: string): string {
    const i = this.hosts.indexOf(host);
    if (i < 0) throw new Error(`${host} is not a host of ${this.name} (${this.hosts.join(', ')})`);
    return `${this.prefix}.${10 + i}`;
  }

  /** The root namespace's address on the bridge (where the orchestrator and the test come from). */
  get rootAddress(): string {
    return `${this.prefix}.1`;
  }

  private get bridge(): string {
    return `${this.name}-bridge`;
  }

  private async build(): Promise<void> {
    await ip('netns', 'add', this.bridge);
    await ip('-n', this.bridge, 'link', 'set', 'lo', 'up');
    await ip('-n', this.bridge, 'link', 'add', 'name', 'bridge', 'type', 'bridge');
    await ip('-n', this.bridge, 'link', 'set', 'bridge', 'up');
    await ip('link', 'add', 'name', this.name, 'type', 'veth', 'peer', 'name', 'root', 'netns', this.bridge);
    await ip('-n', this.bridge, 'link', 'set', 'root', 'master', 'bridge', 'up');
    await ip('addr', 'add', `${this.rootAddress}/24`, 'dev', this.name);
    await ip('link', 'set', this.name, 'up');
    for (const [i, host] of this.hosts.entries()) {
      const namespace = this.namespace(host);
      const port = `h${i + 1}`;
      await ip('netns', 'add', namespace);
      await ip('-n', namespace, 'link', 'set', 'lo', 'up');
      await ip('-n', this.bridge, 'link', 'add', 'name', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace);
      await ip('-n', this.bridge, 'link', 'set', port, 'master', 'bridge', 'up');
      await ip('-n', namespace, 'addr', 'add', `${this.address(host)}/24`, 'dev', 'eth0');
      await ip('-n', namespace, 'link', 'set', 'eth0', 'up');
      await nft(
        namespace,
        `table inet causeway {
           set drop_to { type ipv4_addr; }
           set drop_from { type ipv4_addr; }
           chain output { type filter hook output priority 0; policy accept; ip daddr @drop_to drop; }
           chain input { type filter hook input priority 0; policy accept; ip saddr @drop_from drop; }
         }`,
      );
    }
  }

  /** The processes running in a host's namespace. */
  async processes(host: string): Promise<number[]> {
    return (await ip('netns', 'pids', this.namespace(host))).split('\n').map(Number).filter((p) => p > 0);
  }

  /** From now on every packet `from` sends to `to` is dropped (one direction only). */
  async drop(from: string, to: string): Promise<void> {
    this.cutHosts.add(from);
    await nft(this.namespace(from), `add element inet causeway drop_to { ${this.address(to)} }`);
  }

  /**
   * No packet passes between `a` and any of `others`, either way. One transaction in `a`'s namespace, so the
   * cut is atomic: a cluster that saw half a cut for a moment could elect, or learn a term, through the other half.
   */
  async cut(a: string, others: readonly string[]): Promise<void> {
    const addresses = others.map((b) => this.address(b)).join(', ');
    this.cutHosts.add(a);
    await nft(this.namespace(a), `add element inet causeway drop_to { ${addresses} }\nadd element inet causeway drop_from { ${addresses} }`);
  }

  /**
   * Every partition ends: the drop sets emptied, in the hosts that have any (one `nft` per host; starting four
   * processes where one will do slows the heal down on a busy machine).
   */
  async heal(): Promise<void> {
    await Promise.all(
      [...this.cutHosts].map(async (host) => {
        await nft(this.namespace(host), 'flush set inet causeway drop_to\nflush set inet causeway drop_from');
        this.cutHosts.delete(host);
      }),
    );
  }

  /** Ends the cuts and drops made in `host`'s namespace (by `cut(host, …)` or `drop(host, …)`), leaving the others. */
  async healHost(host: string): Promise<void> {
    if (!this.cutHosts.has(host)) return;
    await nft(this.namespace(host), 'flush set inet causeway drop_to\nflush set inet causeway drop_from');
    this.cutHosts.delete(host);
  }

  /** Removes the bridge, the links and every namespace (killing anything still running in them). Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    const mine = (await namespaces()).filter((n) => n.startsWith(`${this.name}-`));
    await remove(this.name, mine);
  }
}
