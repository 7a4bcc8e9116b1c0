// POSIX signal names and numbers (what Docker users and the Runtime interface speak) -> what HCS can
// do to a Windows process: a console control event through HcsSignalProcess (SignalProcessOptions,
// schema 2.1, build 17763+), or HcsTerminateProcess for SIGKILL. Mapping after hcsshim
// (internal/signals: SIGTERM -> CtrlShutdown, SIGKILL -> terminate) and the console events' meaning.
import { invalidArgument } from '../../../errors';

export type ConsoleSignal = 'CtrlC' | 'CtrlBreak' | 'CtrlClose' | 'CtrlLogOff' | 'CtrlShutdown';

export interface SignalProcessOptions {
  Signal: ConsoleSignal;
}

export type WindowsSignal = { kind: 'signal'; options: SignalProcessOptions } | { kind: 'terminate' };

const BY_NAME: Record<string, ConsoleSignal | 'terminate'> = {
  SIGHUP: 'CtrlClose',
  SIGINT: 'CtrlC',
  SIGQUIT: 'CtrlBreak',
  SIGBREAK: 'CtrlBreak',
  SIGTERM: 'CtrlShutdown',
  SIGKILL: 'terminate',
};
const BY_NUMBER: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 9: 'SIGKILL', 15: 'SIGTERM', 21: 'SIGBREAK' };
const CONSOLE: ConsoleSignal[] = ['CtrlC', 'CtrlBreak', 'CtrlClose', 'CtrlLogOff', 'CtrlShutdown'];

export function windowsSignal(signal: string | number): WindowsSignal {
  let name: string | undefined;
  if (typeof signal === 'number' || /^\d+$/.test(signal)) name = BY_NUMBER[Number(signal)];
  else {
    const console = CONSOLE.find((c) => c.toLowerCase() === signal.toLowerCase());
    if (console) return { kind: 'signal', options: { Signal: console } };
    name = signal.toUpperCase();
    if (!name.startsWith('SIG')) name = 'SIG' + name;
  }
  const action = name !== undefined ? BY_NAME[name] : undefined;
  if (action === undefined) {
    throw invalidArgument(
      `Windows containers cannot receive signal ${signal}`,
      'use SIGTERM (CtrlShutdown), SIGINT (CtrlC), SIGHUP (CtrlClose), SIGQUIT (CtrlBreak) or SIGKILL',
    );
  }
  return action === 'terminate' ? { kind: 'terminate' } : { kind: 'signal', options: { Signal: action } };
}
