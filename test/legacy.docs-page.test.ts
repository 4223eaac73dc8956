// GET /api/docs.html: the legacy OpenAPI document as a readable page, rendered on the server, that
// must work offline (nothing external, no script) and escape everything it shows.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderApiPage } from "../src/transport/api-page.js";
import { legacyOpenApi } from "../src/transport/legacy/openapi.js";
import { LEGACY_ROUTES } from "../src/transport/legacy/route-table.js";
import { startTestService, type TestService } from "./support/service.js";

describe("/api/docs.html", () => {
  let svc: TestService;
  let res: Response;
  let html: string;
  beforeAll(async () => {
    svc = await startTestService();
    res = await fetch(`${svc.url}/api/docs.html`);
    html = await res.text();
  });
  afterAll(() => svc?.close());

  it("is an HTML page naming every legacy path of the route table, with its request and answer fields", () => {
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    for (const { path } of LEGACY_ROUTES) expect(html, path).toContain(`<code>POST ${path}</code>`);
    expect(html).toContain("<code>GET /api/appuser/getUser</code>");
    // Request fields with their types, nested messages linked, answers, headers and the error codes.
    expect(html).toMatch(/<td><code>secondaryAuthFactor<\/code><\/td><td><a href="#schema-signin\.session\.v1\.SecondaryAuthFactor">/);
    expect(html).toContain("<td><code>expiresAt</code></td><td>string (date-time)</td>");
    expect(html).toContain("Required header <code>app-token</code>");
    expect(html).toContain("Other fields are accepted and ignored.");
    for (const code of ["10000", "10034", "10429", "600", "613"]) expect(html).toContain(`<td><code>${code}</code></td>`);
  });

  it("loads nothing from elsewhere: no external URL, no script, and a CSP that allows none", () => {
    const urls = html.match(/https?:\/\/[^\s"'<>]*/g) ?? [];
    expect(urls.filter((u) => !u.startsWith(svc.url))).toStrictEqual([]);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(res.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
  });

  it("answers HEAD with the headers only; GET /api/docs stays the JSON document", async () => {
    const head = await fetch(`${svc.url}/api/docs.html`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const json = await fetch(`${svc.url}/api/docs`);
    expect(json.headers.get("content-type")).toMatch(/^application\/json/);
  });

  it("escapes every text it takes from the document", () => {
    const doc = legacyOpenApi(LEGACY_ROUTES, `1<script>alert("v")</script>`) as any;
    doc.paths["/api/x<img src=x>"] = { post: { operationId: "x'&\"", responses: {} } };
    doc.components.schemas["signin.session.v1.Projection"].properties["<b>field</b>"] = { type: "string", description: "a < b & c" };
    const page = renderApiPage(doc);
    expect(page).not.toMatch(/<script|<img|<b>/);
    expect(page).toContain("1&lt;script&gt;alert(&quot;v&quot;)&lt;/script&gt;");
    expect(page).toContain("/api/x&lt;img src=x&gt;");
    expect(page).toContain("x&#39;&amp;&quot;");
    expect(page).toContain("<code>&lt;b&gt;field&lt;/b&gt;</code>");
    expect(page).toContain("a &lt; b &amp; c");
  });
});
