// A form for a function's input, built from its JSON Schema: an object of
// simple properties becomes one field each; anything else is a JSON text
// box. value() returns the input bytes' text or throws a message naming
// the field at fault, so nothing is sent.

import type { FunctionSpec, Schema } from "../api";
import { field, h } from "../dom";

export interface InputForm {
  el: HTMLElement;
  value(): string;
}

const simple = (s: Schema) => ["string", "integer", "number", "boolean"].includes(String(s.type));

export function inputForm(f: FunctionSpec): InputForm {
  const s = f.input;
  if (s && s.type === "object" && s.properties && Object.values(s.properties).every(simple)) return objectForm(f.name, s);
  const box = h("textarea", { name: `${f.name}-input`, rows: 3, spellcheck: "false" });
  const label = s ? "Input (JSON)" : "Input (text)";
  return {
    el: field(label, box, s ? "A JSON value matching the function's input schema." : "The function's input, as text."),
    value() {
      if (!s) return box.value;
      let v: unknown;
      try {
        v = JSON.parse(box.value);
      } catch {
        throw new Error("input: not JSON");
      }
      checkValue("input", s, v);
      return JSON.stringify(v);
    },
  };
}

function objectForm(fn: string, s: Schema): InputForm {
  const req = new Set(s.required ?? []);
  const inputs = Object.entries(s.properties!).map(([name, p]) => {
    let el: HTMLInputElement | HTMLSelectElement;
    if (p.enum) el = h("select", { name: `${fn}-${name}` }, ...p.enum.map((e) => h("option", { value: JSON.stringify(e) }, String(e))));
    else if (p.type === "boolean") el = h("input", { type: "checkbox", name: `${fn}-${name}` });
    else el = h("input", { name: `${fn}-${name}`, autocomplete: "off", inputmode: p.type === "string" ? undefined : "decimal" });
    el.id = `f-${fn}-${name}`;
    return { name, p, el };
  });
  return {
    el: h("div", { class: "schema" }, ...inputs.map(({ name, p, el }) =>
      field(name + (req.has(name) ? " (required)" : ""), el, p.description))),
    value() {
      const out: Record<string, unknown> = {};
      for (const { name, p, el } of inputs) {
        if (p.enum) {
          out[name] = JSON.parse(el.value);
          continue;
        }
        if (p.type === "boolean") {
          out[name] = (el as HTMLInputElement).checked;
          continue;
        }
        const raw = el.value;
        if (raw === "") {
          if (req.has(name)) throw new Error(`${name}: required`);
          continue;
        }
        let v: unknown = raw;
        if (p.type !== "string") {
          v = Number(raw);
          if (raw.trim() === "" || !Number.isFinite(v)) throw new Error(`${name}: a number`);
        }
        checkValue(name, p, v);
        out[name] = v;
      }
      return JSON.stringify(out);
    },
  };
}

// checkValue applies the schema rules a person gets wrong most; the chain
// checks the whole schema again.
function checkValue(name: string, s: Schema, v: unknown): void {
  const t = s.type;
  const is = (x: string) => t === x || (Array.isArray(t) && t.includes(x));
  if (t && !(is(jsonType(v)) || (is("number") && jsonType(v) === "integer"))) throw new Error(`${name}: want ${[t].flat().join(" or ")}`);
  if (typeof v === "string") {
    if (s.minLength !== undefined && v.length < s.minLength) throw new Error(`${name}: at least ${s.minLength} characters`);
    if (s.maxLength !== undefined && v.length > s.maxLength) throw new Error(`${name}: at most ${s.maxLength} characters`);
  }
  if (typeof v === "number") {
    if (s.minimum !== undefined && v < s.minimum) throw new Error(`${name}: at least ${s.minimum}`);
    if (s.maximum !== undefined && v > s.maximum) throw new Error(`${name}: at most ${s.maximum}`);
  }
  if (s.type === "object" && s.required && v && typeof v === "object") {
    for (const r of s.required) if (!(r in v)) throw new Error(`${name}: ${r} is required`);
  }
}

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}
