// A tiny element builder: everything is created with createElement and textContent, never from markup,
// so names and message bodies from the broker are always shown as text.

const PROPERTIES = new Set(['value', 'checked', 'selected', 'disabled', 'hidden', 'required', 'multiple']);

export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') element.className = value;
    else if (key.startsWith('on') && typeof value === 'function') element.addEventListener(key.slice(2), value);
    else if (PROPERTIES.has(key)) element[key] = value;
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : String(child));
  }
  return parent;
}

export function replaceChildren(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

let nextId = 0;
/** Unique ids for label/input pairs (per page; ids only need to be unique in the document). */
export function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** A labelled control: `field('Name', h('input', {...}))`. */
export function field(label, control, hint) {
  const id = control.id || uid('f');
  control.id = id;
  const hintId = hint === undefined ? undefined : `${id}-hint`;
  if (hintId !== undefined) control.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint === undefined ? null : h('small', { id: hintId }, hint));
}

export function checkbox(label, name, checked) {
  const id = uid('c');
  return h('div', { class: 'field check' }, h('input', { type: 'checkbox', id, name, checked }), h('label', { for: id }, label));
}

export function select(name, options, value) {
  const element = h('select', { name });
  setOptions(element, options, value);
  return element;
}

/** Replaces a select's options only when they changed, keeping what the user picked. */
export function setOptions(element, options, value) {
  const pairs = options.map((o) => (typeof o === 'string' ? [o, o] : o));
  const current = value ?? element.value;
  const same = element.options.length === pairs.length && pairs.every(([v], i) => element.options[i]?.value === v);
  if (!same) {
    element.replaceChildren(...pairs.map(([v, text]) => h('option', { value: v }, text)));
  }
  if (pairs.some(([v]) => v === current)) element.value = current;
}

/** A titled box on a page. */
export function panel(title, ...children) {
  const id = uid('panel');
  return h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

/** A <dl> of label → value pairs. */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
}

/**
 * "name = value" lines into a table: numbers and true/false become typed, the rest stay text. Used for
 * message headers and queue/exchange arguments.
 */
export function parseKeyValues(text) {
  const table = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`"${line}" is not name = value`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    table[key] = typedValue(value);
  }
  return table;
}

function typedValue(text) {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}

/** Runs a form's action with its button disabled, so a double click does not act twice. */
export function onSubmit(form, action) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const buttons = form.querySelectorAll('button');
    for (const button of buttons) button.disabled = true;
    try {
      await action(new FormData(form));
    } finally {
      for (const button of buttons) button.disabled = false;
    }
  });
  return form;
}
