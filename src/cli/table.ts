/** Plain-text tables for the commands' listings (fmnist runs, fmnist sweep). */

/** Columns padded to their widest cell; `right` columns are aligned right (numbers). */
export function table(rows: string[][], right: boolean[]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => Array.from(row[c]).length)));
  return rows.map((row) =>
    row
      .map((cell, c) => {
        const pad = ' '.repeat(widths[c] - Array.from(cell).length);
        return right[c] ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd(),
  );
}
