// Markdown tables and number formatting shared by the benchmark reports.

export type Cell = string | number | undefined;

/** Formats a number with thousands separators and at most `digits` decimals; '-' for no value. */
export function formatNumber(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A ratio as `5.21×`; '-' for no value. */
export function formatRatio(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '-' : `${value.toFixed(2)}×`;
}

/**
 * A GitHub-flavoured Markdown table. Columns listed in `alignRight` (by index) are right-aligned,
 * which is what numbers want. Pipes inside cells are escaped so a message cannot break the table.
 */
export function markdownTable(header: readonly string[], rows: readonly (readonly Cell[])[], alignRight: readonly number[] = []): string {
  const cell = (value: Cell) => (value === undefined ? '-' : String(value)).replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    `| ${header.map(cell).join(' | ')} |`,
    `|${header.map((_, i) => (alignRight.includes(i) ? '---:' : '---')).join('|')}|`,
    ...rows.map((row) => `| ${header.map((_, i) => cell(row[i])).join(' | ')} |`),
  ];
  return lines.join('\n');
}
