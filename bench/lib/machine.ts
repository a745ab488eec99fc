import { cpus, loadavg, platform, release, totalmem } from 'node:os';

/** What a reader needs to judge a figure: the machine and how busy it was. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memory_gib: number;
  node: string;
  os: string;
  arch: string;
}

export function machineInfo(): MachineInfo {
  const processors = cpus();
  return {
    cpu: processors[0]?.model.trim() ?? 'unknown',
    cores: processors.length,
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${platform()} ${release()}`,
    arch: process.arch,
  };
}

/** 1, 5 and 15 minute load averages, two decimals. */
export function loadAverage(): [number, number, number] {
  const [one = 0, five = 0, fifteen = 0] = loadavg();
  return [one, five, fifteen].map((value) => Math.round(value * 100) / 100) as [number, number, number];
}
