// GET /api/docs.html: the legacy OpenAPI document (/api/openapi.json) as a page people can read,
// rendered here on the server: no script, no CDN, nothing fetched, so it works offline.
import type { Req, Res } from "./legacy/http.js";

type Schema = Record<string, any>;
type Doc = { info: { title: string; version: string }; paths: Record<string, Record<string, Schema>>; components: { schemas: Record<string, Schema> } };

const HEADERS = {
  "content-type": "text/html; charset=utf-8",
  // Nothing but the inline style may load: the page is static text.
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "public, max-age=300",
};

/** Serves the page rendered once from `doc` (the document does not change while the process runs). */
export function apiPage(doc: object): (req: Req, res: Res) => void {
  const body = Buffer.from(renderApiPage(doc as Doc));
  return (req, res) => {
    res.writeHead(200, { ...HEADERS, "content-length": body.length });
    if (req.method === "HEAD") res.end();
    else res.end(body);
  };
}

const esc = (text: unknown) =>
  String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
const anchor = (name: string, kind = "schema") => `${kind}-${name.replace(/[^\w.-]/g, "_")}`;
const refName = (ref: string) => ref.slice("#/components/schemas/".length);

export function renderApiPage(doc: Doc): string {
  const schemas = doc.components.schemas;
  const resolve = (s: Schema): Schema => (s.$ref ? (schemas[refName(s.$ref)] ?? {}) : s);

  /** A field's type as text, nested messages linked to their section below. */
  const typeOf = (s: Schema): string => {
    if (s.$ref) return `<a href="#${esc(anchor(refName(s.$ref)))}">${esc(refName(s.$ref))}</a>`;
    if (s.type === "array") return `array of ${typeOf(s.items ?? {})}`;
    if (s.type === "object" && s.additionalProperties && typeof s.additionalProperties === "object") {
      return Object.keys(s.additionalProperties).length ? `map of ${typeOf(s.additionalProperties)}` : "object";
    }
    let text = esc(s.type ?? "any");
    if (s.format) text += ` (${esc(s.format)})`;
    if (s.enum) text += `: ${s.enum.map((v: unknown) => `<code>${esc(JSON.stringify(v))}</code>`).join(" | ")}`;
    return text;
  };

  const fields = (s: Schema): string => {
    const props = Object.entries<Schema>(s.properties ?? {});
    const required = new Set<string>(s.required ?? []);
    const rows = props.map(
      ([name, p]) => `<tr><td><code>${esc(name)}</code>${required.has(name) ? " (always)" : ""}</td><td>${typeOf(p)}</td><td>${esc(p.description ?? "")}${p.properties ? fields(p) : ""}</td></tr>`,
    );
    const extra = s.additionalProperties === true ? "<p>Other fields are accepted and ignored.</p>" : s.additionalProperties === false ? "<p>No other fields.</p>" : "";
    return (rows.length ? `<table><tr><th>Field</th><th>Type</th><th>Notes</th></tr>${rows.join("")}</table>` : "<p>No fields.</p>") + extra;
  };

  const codes = (s: Schema): string => {
    const table = s.properties?.code?.["x-codes"] ?? s.properties?.error?.properties?.code?.["x-codes"];
    if (!table) return "";
    const rows = Object.entries<string>(table).map(([code, meaning]) => `<tr><td><code>${esc(code)}</code></td><td>${esc(meaning)}</td></tr>`);
    return `<h4>Error codes</h4><table><tr><th>Code</th><th>Meaning</th></tr>${rows.join("")}</table>`;
  };

  const operation = (path: string, verb: string, op: Schema): string => {
    const parts = [`<h3 id="${esc(anchor(path + "-" + verb, "op"))}"><code>${esc(verb.toUpperCase())} ${esc(path)}</code></h3>`, `<p>Operation <code>${esc(op.operationId)}</code></p>`];
    for (const p of op.parameters ?? []) parts.push(`<p>${p.required ? "Required" : "Optional"} ${esc(p.in)} <code>${esc(p.name)}</code></p>`);
    const body = op.requestBody;
    if (body) {
      const media = Object.values<Schema>(body.content)[0]!;
      parts.push(`<h4>Request body</h4><p>${Object.keys(body.content).map((t) => `<code>${esc(t)}</code>`).join(" or ")}. ${esc(body.description ?? "")}</p>`);
      parts.push(`<p>Schema ${typeOf(media.schema)}</p>`, fields(resolve(media.schema)));
    } else {
      parts.push("<h4>Request body</h4><p>None.</p>");
    }
    for (const [status, answer] of Object.entries<Schema>(op.responses ?? {})) {
      parts.push(`<h4>HTTP ${esc(status)}</h4><p>${esc(answer.description ?? "")}</p>`);
      const schema: Schema | undefined = answer.content?.["application/json"]?.schema;
      if (!schema) continue;
      const variants: Schema[] = schema.oneOf ?? [schema];
      // The error shapes are shared: linked (with their code tables) rather than repeated.
      for (const v of variants) parts.push(v.$ref && refName(v.$ref).endsWith("Error") ? `<p>Error: ${typeOf(v)}</p>` : fields(resolve(v)));
    }
    return `<section>${parts.join("\n")}</section>`;
  };

  const ops: string[] = [];
  const toc: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [verb, op] of Object.entries(item)) {
      toc.push(`<li><a href="#${esc(anchor(path + "-" + verb, "op"))}"><code>${esc(verb.toUpperCase())} ${esc(path)}</code></a></li>`);
      ops.push(operation(path, verb, op));
    }
  }
  const types = Object.entries(schemas).map(
    ([name, s]) => `<section><h3 id="${esc(anchor(name))}"><code>${esc(name)}</code></h3>${fields(s)}${codes(s)}</section>`,
  );

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(doc.info.title)}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
section { border-top: 1px solid #ddd; margin-top: 1.5rem; }
code { font-size: .95em; }
</style>
</head>
<body>
<h1>${esc(doc.info.title)}</h1>
<p>Version ${esc(doc.info.version)}. The same document as JSON: <a href="/api/openapi.json"><code>/api/openapi.json</code></a>
(the Yeep-style part alone: <a href="/api/docs"><code>/api/docs</code></a>).</p>
<h2>Methods</h2>
<ul>${toc.join("")}</ul>
${ops.join("\n")}
<h2>Types</h2>
${types.join("\n")}
</body>
</html>
`;
}
