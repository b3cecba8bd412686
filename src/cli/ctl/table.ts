/** The value at a dotted path ("queue.name") of a JSON object, as text for a table cell. */
function cell(row: unknown, path: string): string {
  let current = row;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return '';
    current = (current as Record<string, unknown>)[key];
  }
  if (current === undefined || current === null) return '';
  if (Array.isArray(current)) return current.map(String).join(',');
  if (typeof current === 'object') return JSON.stringify(current);
  return String(current);
}

/** A plain aligned text table: a header row, a rule, one line per row. */
export function formatTable(rows: readonly unknown[], columns: readonly string[]): string {
  const cells = rows.map((row) => columns.map((column) => cell(row, column)));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]): string => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}
