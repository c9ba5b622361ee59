/** The lines of a file that say something, with their 1-based line numbers for messages. */
export function nonBlankLines(text: string): { raw: string; line: number }[] {
  return text
    .split("\n")
    .map((raw, i) => ({ raw, line: i + 1 }))
    .filter(({ raw }) => raw.trim() !== "");
}
