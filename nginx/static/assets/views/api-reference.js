// API reference: docs/openapi.json as nginx serves it at /api/openapi.json, rendered as a page.
// Every operation with its credentials, parameters, body, responses (with the problem `code`s each
// may carry) and headers; then the shared schemas, which the operations link to. Built from the
// document alone, so the page never disagrees with it, and with no request beyond that one.

import { h } from "../dom.js";

const DOCUMENT_URL = "/api/openapi.json";
const METHODS = ["get", "post", "put", "patch", "delete", "options", "head"];

/** `#/components/schemas/Site` → { kind: "schemas", name: "Site" }. */
function refTarget(ref) {
  const parts = String(ref).split("/");
  return { kind: parts[2], name: parts[3] };
}

function resolve(spec, value) {
  let current = value;
  for (let depth = 0; current && current.$ref && depth < 10; depth += 1) {
    const { kind, name } = refTarget(current.$ref);
    current = ((spec.components || {})[kind] || {})[name];
  }
  return current || {};
}

function anchor(kind, name) {
  return `${kind}-${name}`.replace(/[^A-Za-z0-9_-]/g, "-");
}

/** Text with `code spans`, as the document's descriptions write them, as text and <code> nodes. */
function prose(text) {
  return String(text || "").split("`").map((part, index) => (index % 2 ? h("code", {}, part) : part));
}

function schemaLink(ref) {
  const { name } = refTarget(ref);
  return h("a", { href: `#${anchor("schema", name)}`, class: "ref-link" }, name);
}

/** What a schema is, in a few words and links: `Site`, `array of Site`, `string (date-time)`, … */
function typeSummary(schema) {
  if (!schema || typeof schema !== "object") return ["any"];
  if (schema.$ref) return [schemaLink(schema.$ref)];
  if (schema.const !== undefined) return [h("code", {}, JSON.stringify(schema.const))];
  if (schema.enum) return ["one of ", ...schema.enum.flatMap((value, index) => [index ? ", " : "", h("code", {}, JSON.stringify(value))])];
  for (const key of ["oneOf", "anyOf"]) {
    if (schema[key]) return schema[key].flatMap((part, index) => [index ? " or " : "", ...typeSummary(part)]);
  }
  if (schema.allOf) return schema.allOf.flatMap((part, index) => [index ? " with " : "", ...typeSummary(part)]);
  const types = Array.isArray(schema.type) ? schema.type : [schema.type || (schema.properties ? "object" : "any")];
  return types.flatMap((type, index) => {
    const parts = [index ? " or " : ""];
    if (type === "array") parts.push("array of ", ...typeSummary(schema.items));
    else parts.push(schema.format ? `${type} (${schema.format})` : type);
    return parts;
  });
}

/** Limits worth knowing: lengths, ranges, patterns, defaults. */
function constraints(schema) {
  if (!schema || typeof schema !== "object") return [];
  const notes = [];
  if (schema.minLength !== undefined || schema.maxLength !== undefined) {
    notes.push(`length ${schema.minLength ?? 0}–${schema.maxLength ?? "∞"}`);
  }
  if (schema.minimum !== undefined || schema.maximum !== undefined) notes.push(`${schema.minimum ?? "−∞"} to ${schema.maximum ?? "∞"}`);
  if (schema.minItems !== undefined || schema.maxItems !== undefined) notes.push(`${schema.minItems ?? 0} to ${schema.maxItems ?? "any number of"} items`);
  if (schema.default !== undefined) notes.push(`default ${JSON.stringify(schema.default)}`);
  for (const key of ["oneOf", "anyOf"]) {
    for (const part of schema[key] || []) notes.push(...constraints(part));
  }
  return notes;
}

function propertyTable(spec, schema) {
  const object = resolve(spec, schema);
  const properties = object.properties || {};
  const required = new Set(object.required || []);
  const names = Object.keys(properties);
  if (!names.length) return h("p", {}, typeSummary(schema));
  return h("table", { class: "api-table" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Field"), h("th", { scope: "col" }, "Type"),
      h("th", { scope: "col" }, "Notes"))),
    h("tbody", {}, names.map((name) => {
      const property = properties[name];
      const notes = [required.has(name) ? "required" : "optional", ...constraints(property)];
      return h("tr", {},
        h("th", { scope: "row" }, h("code", {}, name)),
        h("td", {}, typeSummary(property)),
        h("td", {}, notes.join("; "), property.description ? h("div", { class: "field-hint" }, prose(property.description)) : null));
    })));
}

/** The problem `code`s a response may carry, from `allOf: [Problem, {code: {enum}}]`. */
function problemCodes(spec, response) {
  const content = (response.content || {})["application/problem+json"];
  if (!content) return [];
  const schema = resolve(spec, content.schema);
  const codes = [];
  for (const part of schema.allOf || []) {
    const code = ((part.properties || {}).code || {}).enum;
    if (code) codes.push(...code);
  }
  return codes;
}

function securityText(spec, security) {
  if (!security || !security.length) return "none";
  return security.map((requirement) => Object.entries(requirement).map(([name, scopes]) => {
    const scheme = ((spec.components || {}).securitySchemes || {})[name] || {};
    const label = scheme.in === "cookie" ? "session cookie" : scheme.scheme === "bearer" ? "bearer token" : name;
    return scopes.length ? `${label} with ${scopes.join(", ")}` : label;
  }).join(" and ")).join(", or ");
}

function responsesSection(spec, responses) {
  return h("table", { class: "api-table" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Body"),
      h("th", { scope: "col" }, "Meaning"))),
    h("tbody", {}, Object.entries(responses).map(([status, reference]) => {
      const response = resolve(spec, reference);
      const bodies = Object.entries(response.content || {}).map(([type, media]) => {
        // Only a problem document has codes; a response may have other bodies besides (JSON-RPC's).
        const codes = type === "application/problem+json" ? problemCodes(spec, response) : [];
        return h("div", {}, h("code", {}, type), " ",
          codes.length ? ["code: ", codes.flatMap((code, index) => [index ? ", " : "", h("code", {}, code)])] : typeSummary(media.schema));
      });
      const headers = Object.entries(response.headers || {}).map(([name, header]) => {
        const resolved = resolve(spec, header);
        return h("div", { class: "field-hint" }, "Header ", h("code", {}, name), resolved.required ? "" : " (sometimes)",
          resolved.description ? [": ", prose(resolved.description)] : "");
      });
      return h("tr", {},
        h("th", { scope: "row" }, h("code", {}, status)),
        h("td", {}, bodies.length ? bodies : "—"),
        h("td", {}, prose(response.description), headers));
    })));
}

function operationSection(spec, path, method, operation) {
  const parameters = (operation.parameters || []).map((parameter) => resolve(spec, parameter));
  const body = operation.requestBody ? resolve(spec, operation.requestBody) : null;
  const bodyMedia = body && body.content ? Object.entries(body.content)[0] : null;
  return h("section", { class: "card api-operation", id: operation.operationId },
    h("h3", {}, h("span", { class: `method method-${method}` }, method.toUpperCase()), " ", h("code", {}, path)),
    h("p", { class: "api-summary" }, operation.summary || ""),
    operation.description ? h("p", {}, prose(operation.description)) : null,
    h("p", { class: "field-hint" }, "Credentials: ", securityText(spec, operation.security ?? spec.security)),
    parameters.length ? [h("h4", {}, "Parameters"), h("table", { class: "api-table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "In"),
        h("th", { scope: "col" }, "Type"), h("th", { scope: "col" }, "Notes"))),
      h("tbody", {}, parameters.map((parameter) => h("tr", {},
        h("th", { scope: "row" }, h("code", {}, parameter.name)),
        h("td", {}, parameter.in),
        h("td", {}, typeSummary(parameter.schema)),
        h("td", {}, [parameter.required ? "required" : "optional", ...constraints(parameter.schema)].join("; "),
          parameter.description ? h("div", { class: "field-hint" }, prose(parameter.description)) : null)))))] : null,
    bodyMedia ? [h("h4", {}, "Request body ", h("code", {}, bodyMedia[0]), body.required ? "" : " (optional)"),
      propertyTable(spec, bodyMedia[1].schema)] : null,
    h("h4", {}, "Responses"),
    responsesSection(spec, operation.responses || {}));
}

export async function render(context) {
  context.setTitle("API reference");
  const response = await fetch(DOCUMENT_URL, { headers: { Accept: "application/json" }, signal: context.signal });
  if (!response.ok) throw new Error(`${DOCUMENT_URL} answered ${response.status}`);
  const spec = await response.json();
  if (context.signal.aborted) return;

  const byTag = new Map();
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const tag = (operation.tags || ["Other"])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push({ path, method, operation });
    }
  }
  const tags = [...(spec.tags || []).map((tag) => tag.name), ...byTag.keys()].filter((tag, index, all) => byTag.has(tag) && all.indexOf(tag) === index);
  const schemes = Object.entries((spec.components || {}).securitySchemes || {});
  const schemas = Object.entries((spec.components || {}).schemas || {});

  context.main.append(h("div", { class: "page api-reference" },
    h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, `${spec.info.title} ${spec.info.version}`)),
    h("p", { class: "lead" }, prose(spec.info.description)),
    h("p", {}, "The same document as OpenAPI 3.1: ", h("a", { href: DOCUMENT_URL, download: "openapi.json" }, "openapi.json"), "."),
    h("nav", { class: "card api-toc", "aria-label": "Operations" },
      h("h2", {}, "Operations"),
      tags.map((tag) => [h("h3", {}, tag), h("ul", {}, byTag.get(tag).map(({ path, method, operation }) => h("li", {},
        h("a", { href: `#${operation.operationId}` }, h("span", { class: `method method-${method}` }, method.toUpperCase()), " ",
          h("code", {}, path)), " ", operation.summary || "")))])),
    h("h2", {}, "Credentials"),
    h("ul", {}, schemes.map(([name, scheme]) => h("li", {}, h("strong", {}, name), ": ", prose(scheme.description || scheme.type)))),
    tags.map((tag) => [h("h2", {}, tag), byTag.get(tag).map(({ path, method, operation }) => operationSection(spec, path, method, operation))]),
    h("h2", {}, "Schemas"),
    schemas.map(([name, schema]) => h("section", { class: "card api-schema", id: anchor("schema", name) },
      h("h3", {}, h("code", {}, name)),
      schema.description ? h("p", {}, prose(schema.description)) : null,
      schema.properties ? propertyTable(spec, schema) : h("p", {}, typeSummary(schema),
        constraints(schema).length ? ` (${constraints(schema).join("; ")})` : "",
        schema.pattern ? [" matching ", h("code", {}, schema.pattern)] : "")))));

  // A link to an operation or schema (#getStats) scrolls there once the page exists.
  if (window.location.hash) {
    const element = window.document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
    if (element) element.scrollIntoView();
  }
}
