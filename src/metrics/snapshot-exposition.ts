/**
 * Writes the snapshot-derived families of one scrape, piece by piece (~64 KB each), yielding to the event
 * loop between pieces: the per-task lines come ready-made from the TaskIndex, a scrape only strings them together.
 */
import { Slicer } from '../runtime/event-loop.ts';
import { familyHeader, labelText, sampleLine } from './exposition.ts';
import { SCHEDULE_FAMILIES, TASK_COUNT_FAMILY, TASK_FAMILIES } from './snapshot-series.ts';
import type { SnapshotView } from './snapshot-view.ts';
import type { TaskIndex } from './task-index.ts';

const PIECE_CHARS = 64 * 1024;

export interface SnapshotExpositionInput {
  view: SnapshotView;
  index: TaskIndex;
  schedules: readonly string[];
  now: number;
  /** False when the snapshots are not current: their families are left out (the error is counted by the caller). */
  current: boolean;
}

export async function* snapshotPieces(input: SnapshotExpositionInput): AsyncGenerator<string> {
  const rows = input.current ? input.index.exported(input.now) : [];
  let text = '';

  if (input.current) {
    for (const family of SCHEDULE_FAMILIES) {
      text += familyHeader(family.name, family.help, 'gauge');
      for (const schedule of input.schedules) {
        for (const sample of family.samples(input.view.get(schedule))) {
          text += sampleLine(family.name, labelText({ schedule, ...sample.labels }), sample.value);
        }
      }
    }
    text += familyHeader(TASK_COUNT_FAMILY.name, TASK_COUNT_FAMILY.help, 'gauge');
    for (const [associate, perState] of input.index.counts()) {
      for (const [state, value] of perState)
        text += sampleLine(TASK_COUNT_FAMILY.name, labelText({ associate_id: associate, state }), value);
    }
  }

  const slicer = new Slicer();
  for (const [f, family] of TASK_FAMILIES.entries()) {
    text += familyHeader(family.name, family.help, 'gauge');
    for (let i = 0; i < rows.length; i++) {
      text += rows[i]!.text[f];
      if (text.length >= PIECE_CHARS) {
        yield text;
        text = '';
        await slicer.maybeYield();
      }
    }
  }

  text += familyHeader(
    'batchwatch_task_series_exported',
    'Tasks exported with per-task series (superoffice_batch_task_*) in this scrape.',
    'gauge',
  );
  text += sampleLine('batchwatch_task_series_exported', '', rows.length);
  text += familyHeader(
    'batchwatch_task_series_dropped',
    'Tasks that qualify for per-task series but are left out because of metrics.maxExportedTasks.',
    'gauge',
  );
  text += sampleLine('batchwatch_task_series_dropped', '', input.current ? input.index.dropped : 0);
  yield text;
}
