// An image inserted at a position gets a line of its own: Markdown images placed side by side
// (`![a](x.png)![b](y.png)`) or glued to a sentence are not what a user inserting "an image
// here" expects.

/** Line breaks to put before and after an image inserted into `line` at `character`. */
export function ownLineBreaks(line: string, character: number, eol: string): { before: string; after: string } {
  return {
    before: line.slice(0, character).trim() ? eol : '',
    after: line.slice(character).trim() ? eol : '',
  };
}
