import { spawnSync } from 'node:child_process';
import { missingTool, TOOLS_REQUIRED } from './tools.ts';

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;

function unescapeLabelValue(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/** Parses the sample lines of the Prometheus text format (enough for asserting on our own output). */
export function parseSamples(body: string): ParsedSample[] {
  const samples: ParsedSample[] = [];
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`unparseable sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(LABEL)) labels[key!] = unescapeLabelValue(raw!);
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** Samples of `name` whose labels include every pair in `labels`. */
export function find(samples: ParsedSample[], name: string, labels: Record<string, string> = {}): ParsedSample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The single value of `name` with `labels`; throws when there is none or more than one. */
export function sampleValue(samples: ParsedSample[], name: string, labels: Record<string, string> = {}): number {
  const found = find(samples, name, labels);
  if (found.length !== 1) throw new Error(`expected one ${name}${JSON.stringify(labels)}, found ${found.length}`);
  return found[0]!.value;
}

const promtoolInstalled = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
/** Whether to run the promtool checks: promtool is installed, or BATCHWATCH_CI=1 requires it (then a missing one fails them). */
export const usePromtool = promtoolInstalled || TOOLS_REQUIRED;
export const PROMTOOL_MISSING = 'promtool not installed (Debian/Ubuntu: apt-get install prometheus); CI installs it';

export function promtool(args: string[], input?: string): { status: number | null; output: string } {
  if (!promtoolInstalled) throw missingTool(PROMTOOL_MISSING);
  const result = spawnSync('promtool', args, { input, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}
