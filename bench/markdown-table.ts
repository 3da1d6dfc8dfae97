/** A results table: a title, column names, and rows of already formatted cells. */
export interface ResultTable {
  title: string;
  columns: string[];
  rows: string[][];
  /** Lines printed under the table (what was measured, caveats). */
  notes?: string[];
}

/** Renders a {@link ResultTable} as GitHub-flavoured markdown. */
export function renderMarkdownTable(table: ResultTable): string {
  const lines = [`### ${table.title}`, '', `| ${table.columns.join(' | ')} |`, `|${table.columns.map(() => '---').join('|')}|`];
  for (const row of table.rows) lines.push(`| ${row.join(' | ')} |`);
  if (table.notes !== undefined && table.notes.length > 0) lines.push('', ...table.notes);
  return lines.join('\n');
}

/** A number with a fixed count of decimals, or `n/a` when not finite. */
export function fixed(value: number, decimals: number): string {
  return Number.isFinite(value) ? value.toFixed(decimals) : 'n/a';
}

/** A ratio like `1.23x`. */
export function ratio(value: number): string {
  return `${fixed(value, 2)}x`;
}

/** A relative change like `+1.2%`. */
export function percent(value: number): string {
  return Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}%` : 'n/a';
}
