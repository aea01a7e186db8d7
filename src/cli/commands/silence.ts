/** `batchwatch silence add|list|expire`: silences in Redis, shared with every replica. */
import { describeMatchers } from '../../core/matchers.ts';
import { formatDuration } from '../../config/duration.ts';
import type { SilenceView, WindowView } from '../../silence/controls.ts';
import { silenceJson, windowJson } from '../../silence/json.ts';
import { oneLine } from '../../core/text.ts';
import { truncate } from '../../notify/format.ts';
import { parseCommandArgs, parseCommandArgsWithPositionals, UsageError } from '../args.ts';
import { defaultAuthor, withControls } from '../silence-session.ts';
import { iso, pad } from '../table.ts';

const SUBCOMMANDS = 'add, list or expire';

export async function silenceCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'add':
      return add(rest);
    case 'list':
      return list(rest);
    case 'expire':
      return expire(rest);
    case undefined:
      throw new UsageError(`needs a subcommand: ${SUBCOMMANDS}`);
    default:
      throw new UsageError(`unknown subcommand "${sub}" (use ${SUBCOMMANDS})`);
  }
}

async function add(argv: string[]): Promise<number> {
  const values = parseCommandArgs(argv, {
    config: { type: 'string' },
    task: { type: 'string' },
    'task-id': { type: 'string' },
    associate: { type: 'string' },
    schedule: { type: 'string' },
    kind: { type: 'string' },
    for: { type: 'string' },
    until: { type: 'string' },
    from: { type: 'string' },
    comment: { type: 'string' },
    author: { type: 'string' },
  });
  const request = {
    task: values.task,
    taskId: values['task-id'],
    associate: values.associate,
    schedule: values.schedule,
    kind: values.kind,
    for: values.for,
    until: values.until,
    from: values.from,
    comment: values.comment,
    author: values.author,
  };
  const defined = Object.fromEntries(Object.entries(request).filter(([, value]) => value !== undefined));
  const silence = await withControls(values.config, (controls) => controls.addSilence(defined, defaultAuthor()));
  // The id alone on stdout, so that scripts can keep it: id=$(batchwatch silence add ...).
  process.stdout.write(`${silence.id}\n`);
  process.stderr.write(
    `silenced ${describeMatchers(silence.matchers)} from ${iso(silence.startsAt)} until ${iso(silence.endsAt)} (${silence.state})\n`,
  );
  return 0;
}

async function list(argv: string[]): Promise<number> {
  const values = parseCommandArgs(argv, { config: { type: 'string' }, json: { type: 'boolean', default: false } });
  const { silences, windows } = await withControls(values.config, async (controls) => ({
    silences: await controls.silences(),
    windows: controls.windows(),
  }));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ silences: silences.map(silenceJson), maintenance: windows.map(windowJson) }, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`${formatList(silences, windows)}\n`);
  return 0;
}

async function expire(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgsWithPositionals(argv, { config: { type: 'string' }, author: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('expire takes one silence id (batchwatch silence list shows them)');
  const silence = await withControls(values.config, (controls) => controls.expireSilence(positionals[0]!, values.author, defaultAuthor()));
  process.stdout.write(`${silence.id} expired at ${iso(silence.endsAt)}\n`);
  return 0;
}

/** Active and pending first, then expired (kept a week), newest last; then the maintenance windows of the config. */
export function formatList(silences: readonly SilenceView[], windows: readonly WindowView[]): string {
  const order = { active: 0, pending: 1, expired: 2 } as const;
  const sorted = [...silences].sort((a, b) => order[a.state] - order[b.state] || a.startsAt - b.startsAt);
  const lines: string[] = [];
  if (sorted.length === 0) lines.push('no silences');
  else {
    const rows = [['id', 'state', 'matchers', 'starts', 'ends', 'author', 'comment']];
    for (const s of sorted) {
      rows.push([
        s.id,
        s.state,
        oneLine(describeMatchers(s.matchers)),
        iso(s.startsAt),
        iso(s.endsAt),
        truncate(oneLine(s.author), 30),
        truncate(oneLine(s.comment), 60),
      ]);
    }
    lines.push(pad(rows));
  }
  if (windows.length > 0) {
    lines.push('', 'maintenance windows (from the config):');
    for (const w of windows) {
      const when = w.inForce ? `IN FORCE until ${iso(w.inForce.endsAt)}` : `next ${w.nextStart === null ? 'never' : iso(w.nextStart)}`;
      lines.push(`  ${w.name}: "${w.cron}" ${w.tz} for ${formatDuration(w.duration)}, ${describeMatchers(w.match)} — ${when}`);
    }
  }
  return lines.join('\n');
}
