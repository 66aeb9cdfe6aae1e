import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { exitCodeOf } from './status.ts';

/** How one container process ended. */
export interface ProcessExit {
  exitCode: number;
  /** The signal that ended it, if any. */
  signal?: NodeJS.Signals;
}

/** A running container process: the leader of its own process group. */
export interface ContainerProcess {
  pid: number;
  /** Settles once, when the leader has exited and its whole group was killed. */
  exited: Promise<ProcessExit>;
}

/** What to run: argv[0] is resolved on `env.PATH` unless it contains a `/`. */
export interface ProcessSpec {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** stdout and stderr are both appended to this file. */
  logPath: string;
}

/** The process could not be started; the kubelet reports `StartError` with exit code 128. */
export class ProcessStartError extends Error {
  /** Builds the error with a containerd-like message. */
  constructor(message: string) {
    super(message);
    this.name = 'ProcessStartError';
  }
}

/** Finds an executable like execvp does; undefined when there is none. */
export function lookPath(command: string, path: string | undefined): string | undefined {
  const candidates = command.includes('/')
    ? [command]
    : (path ?? '')
        .split(delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => join(dir, command));
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return statSync(candidate).isFile();
    } catch {
      return false;
    }
  });
}

/**
 * Starts a container process detached (its own process group, so the group can be signalled)
 * with stdout+stderr appended to `logPath`. When the leader exits, the rest of its group is
 * killed, as a container's processes die with it. Throws `ProcessStartError`.
 */
export function startProcess(spec: ProcessSpec): ContainerProcess {
  const [command = '', ...args] = spec.argv;
  const executable = lookPath(command, spec.env.PATH);
  if (executable === undefined) {
    throw new ProcessStartError(`exec: "${command}": executable file not found in $PATH`);
  }
  const log = openSync(spec.logPath, 'a');
  try {
    const child = spawn(executable, args, {
      argv0: command,
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    const pid = child.pid;
    if (pid === undefined)
      throw new ProcessStartError(`exec: "${command}": could not start process`);
    const exited = new Promise<ProcessExit>((resolve) => {
      child.once('exit', (code, signal) => {
        signalGroup(pid, 'SIGKILL');
        resolve({ exitCode: exitCodeOf(code, signal), ...(signal === null ? {} : { signal }) });
      });
    });
    child.once('error', () => undefined);
    return { pid, exited };
  } finally {
    closeSync(log);
  }
}

/** Sends `signal` to a process group; a group that is already gone is not an error. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
