// Duplicate keys in a JSON body: JSON.parse keeps the last, a proxy or WAF may read the first, so
// the two could disagree on which password was sent; the legacy surfaces refuse such bodies.

/** The path of the first key that repeats within one object of `text` (valid JSON), or null. */
export function duplicateKeyPath(text: string): string[] | null {
  // One frame per open object or array; iterative, so nesting depth costs no stack.
  const frames: Array<{ keys: Set<string> | null; keyNext: boolean; at: string; index: number }> = [];
  const path = () => frames.slice(1).map((f, i) => (frames[i]!.keys ? frames[i]!.at : String(frames[i]!.index)));
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "{" || c === "[") frames.push({ keys: c === "{" ? new Set() : null, keyNext: c === "{", at: "", index: 0 });
    else if (c === "}" || c === "]") frames.pop();
    else if (c === ",") {
      const top = frames[frames.length - 1];
      if (top?.keys) top.keyNext = true;
      else if (top) top.index++;
    } else if (c === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === "\\") i++;
      const top = frames[frames.length - 1];
      if (top?.keys && top.keyNext) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (top.keys.has(key)) return [...path(), key];
        top.keys.add(key);
        top.at = key;
        top.keyNext = false;
      }
    }
  }
  return null;
}
