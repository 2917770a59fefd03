import os from 'node:os';

/** The machine a benchmark ran on. */
export interface MachineInfo {
  readonly cpuModel: string;
  /** Logical cores (`os.availableParallelism()`). */
  readonly cores: number;
  readonly memoryGiB: number;
  readonly platform: string;
  readonly node: string;
  /** 1-minute load average when the run started (other work on the machine skews timings). */
  readonly loadAverage: number;
}

/** Describe this machine. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: Number(os.loadavg()[0].toFixed(2)),
  };
}
