// Build elements safely: text goes through textContent and attributes through setAttribute, never as HTML,
// so nothing a customer or the API sends can become markup.

/**
 * h('button', {type: 'button', onclick: fn, 'data-testid': 'x'}, 'text', childNode, [more], null)
 * attrs: on<event> → addEventListener; `class`, `for`, `data-*`, `aria-*` etc. → setAttribute;
 * boolean true → empty attribute, false/null/undefined → left out; `value`/`checked`/`selected` set as properties.
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'value' || name === 'checked' || name === 'selected') {
      element[name] = value;
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else if (child instanceof Node) element.appendChild(child);
    else element.appendChild(document.createTextNode(String(child)));
  }
}

/** Replace everything inside `element` with `children`. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** Shorthand for document.querySelector. */
export function $(selector, root = document) {
  return root.querySelector(selector);
}
