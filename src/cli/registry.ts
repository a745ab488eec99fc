import type { Command } from './command.ts';
import { alertsCommand } from './commands/alerts.ts';
import { archiveReplayCommand } from './commands/archive-replay.ts';
import { auditCommand } from './commands/audit.ts';
import { backtestCommand } from './commands/backtest.ts';
import { costCommand } from './commands/cost.ts';
import { dlqDeleteCommand } from './commands/dlq-delete.ts';
import { dlqListCommand } from './commands/dlq-list.ts';
import { dlqRedriveCommand } from './commands/dlq-redrive.ts';
import { dlqShowCommand } from './commands/dlq-show.ts';
import { queryCommand } from './commands/query.ts';
import { replayCommand } from './commands/replay.ts';
import { runCommand } from './commands/run.ts';
import { sendCommand } from './commands/send.ts';
import { silenceAddCommand, silenceListCommand, silenceRemoveCommand } from './commands/silence.ts';
import { startCommand } from './commands/start.ts';
import { testPatternCommand } from './commands/test-pattern.ts';

/** Every command of the CLI, in the order `--help` lists them. A new command is one more entry. */
export const COMMANDS: readonly Command[] = [
  startCommand,
  runCommand,
  backtestCommand,
  sendCommand,
  replayCommand,
  queryCommand,
  auditCommand,
  alertsCommand,
  dlqListCommand,
  dlqShowCommand,
  dlqRedriveCommand,
  dlqDeleteCommand,
  archiveReplayCommand,
  silenceAddCommand,
  silenceListCommand,
  silenceRemoveCommand,
  testPatternCommand,
  costCommand,
];
