import assert from "node:assert/strict";
import { CloseCode, closeReason, ErrorCode } from "../../lib/protocol/codes.ts";

const protocolDoc = await Deno.readTextFile(new URL("../../docs/protocol.md", import.meta.url));

/** The rows of the Markdown table under `heading`, as arrays of trimmed cells. */
function tableUnder(doc: string, heading: string): string[][] {
  const section = doc.slice(doc.indexOf(`\n${heading}\n`));
  const lines = section.split("\n").slice(1);
  const start = lines.findIndex((l) => l.startsWith("|"));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.slice(1, -1).split("|").map((c) => c.trim()));
  }
  return rows;
}

Deno.test("docs/protocol.md's close-code table is the one in lib/protocol/codes.ts", () => {
  const rows = tableUnder(protocolDoc, "## Close codes");
  const documented = rows.map(([code, reason]) => [Number(code), reason]);
  const expected = Object.values(CloseCode).map((code) => [code, closeReason[code]]);
  assert.deepEqual(documented, expected);
});

Deno.test("docs/protocol.md lists every error code in lib/protocol/codes.ts", () => {
  const section = protocolDoc.slice(protocolDoc.indexOf("## Error codes"));
  const listed = section.split("\n\n")[1].match(/`[a-z_]+`/g)?.map((c) => c.slice(1, -1));
  assert.deepEqual(listed, Object.values(ErrorCode));
});
