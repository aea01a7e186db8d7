/** Plain-text tables and times for people, shared by the CLI's commands (poll-once, silence list). */

/** Columns padded to their widest cell, two spaces apart; no trailing spaces. */
export function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, col) => cell.padEnd(widths[col]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A time as ISO-8601 UTC without zero milliseconds; `-` for none. */
export function iso(ms: number | null | undefined): string {
  return ms == null ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z');
}
