import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Simulates a process dying in the middle of a storage sequence: the n-th disk
 * step from now (open for writing, write, fsync, truncate, rename, unlink;
 * counted from 0) throws instead of running, so what is on disk is exactly what
 * the steps before it left. Run a sequence with n = 0, 1, 2, ... until it
 * completes to visit every point where a crash can stop it.
 */
export interface DiskCrash {
  /** True once the crash point was reached (false: the sequence had fewer steps). */
  readonly crashed: boolean;
  /** The step that was refused, e.g. "rename raft.snapshot.tmp". */
  readonly step: string | undefined;
  restore(): void;
}

export async function crashAtDiskStep(n: number): Promise<DiskCrash> {
  const probeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'disk-crash-'));
  const probe = await fs.promises.open(path.join(probeDir, 'probe'), 'w');
  const handleProto = Object.getPrototypeOf(probe) as Record<string, unknown>;
  await probe.close();
  fs.rmSync(probeDir, { recursive: true });

  let seen = 0;
  const state = { crashed: false, step: undefined as string | undefined };
  const spies: jest.SpyInstance[] = [];
  const guard = <T extends object>(target: T, method: string, isStep: (args: unknown[]) => boolean, name: (args: unknown[]) => string) => {
    const original = (target as Record<string, (...args: unknown[]) => unknown>)[method];
    spies.push(
      jest.spyOn(target as Record<string, (...args: unknown[]) => unknown>, method).mockImplementation(function (this: unknown, ...args: unknown[]) {
        if (!state.crashed && isStep(args) && seen++ === n) {
          state.crashed = true;
          state.step = name(args);
          return Promise.reject(new Error(`simulated crash before: ${state.step}`));
        }
        return original.apply(this, args);
      }),
    );
  };
  const base = (p: unknown) => path.basename(String(p));
  guard(fs.promises, 'open', (args) => args[1] !== undefined && args[1] !== 'r', (args) => `open ${base(args[0])} ${String(args[1])}`);
  guard(fs.promises, 'rename', () => true, (args) => `rename ${base(args[0])}`);
  guard(fs.promises, 'unlink', () => true, (args) => `unlink ${base(args[0])}`);
  guard(fs.promises, 'truncate', () => true, (args) => `truncate ${base(args[0])}`);
  guard(handleProto, 'write', () => true, () => 'write');
  guard(handleProto, 'sync', () => true, () => 'fsync');
  guard(handleProto, 'truncate', () => true, () => 'truncate');
  return {
    get crashed() {
      return state.crashed;
    },
    get step() {
      return state.step;
    },
    restore: () => spies.forEach((spy) => spy.mockRestore()),
  };
}
