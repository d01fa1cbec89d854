// Labelled form fields whose errors sit next to them (and are tied to them with aria-describedby),
// and the glue that puts an API problem's `detail` beside the field its `code` concerns.

import { h, uid } from "./dom.js";

function describedBy(element, ...ids) {
  const current = (element.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
  const wanted = [...new Set([...current, ...ids.filter(Boolean)])];
  if (wanted.length) element.setAttribute("aria-describedby", wanted.join(" "));
}

function removeDescribedBy(element, id) {
  const remaining = (element.getAttribute("aria-describedby") || "").split(/\s+/).filter((item) => item && item !== id);
  if (remaining.length) element.setAttribute("aria-describedby", remaining.join(" "));
  else element.removeAttribute("aria-describedby");
}

function errorSlot() {
  return h("p", { class: "field-error", id: uid("error"), hidden: true });
}

/**
 * A labelled input (or select/textarea via `control`), with an optional hint and an error slot.
 * `maxLength` is the server's limit in characters: the browser stops typing there (`maxlength`,
 * which counts UTF-16 units, so never more than the server takes), and `onSubmit` refuses, with a
 * message beside the field, a longer value that arrived another way (a script, an old value).
 */
export function textField({ label, name, type = "text", hint, value = "", control, className, maxLength, ...attributes }) {
  const id = uid(name);
  const input = control || h("input", { id, name, type, value, ...attributes });
  if (!input.id) input.id = id;
  if (!input.name) input.name = name;
  if (maxLength) {
    input.maxLength = maxLength;
    input.dataset.maxLength = String(maxLength);
  }
  const hintElement = hint ? h("p", { class: "field-hint", id: uid("hint") }, hint) : null;
  const error = errorSlot();
  describedBy(input, hintElement && hintElement.id);
  const wrapper = h("div", { class: ["field", className], dataset: { field: name } },
    h("label", { for: input.id }, label), hintElement, input, error);
  return { wrapper, input, error };
}

/** A fieldset of controls (checkboxes, radios) sharing one legend and one error slot. */
export function fieldGroup({ legend, name, hint, children, className }) {
  const hintElement = hint ? h("p", { class: "field-hint", id: uid("hint") }, hint) : null;
  const error = errorSlot();
  const fieldset = h("fieldset", { class: ["field", "field-group", className], dataset: { field: name } },
    h("legend", {}, legend), hintElement, children, error);
  if (hintElement) describedBy(fieldset, hintElement.id);
  return { wrapper: fieldset, error };
}

function controlsOf(container) {
  return [...container.querySelectorAll("input, select, textarea")];
}

export function setFieldError(container, message) {
  const error = container.querySelector(":scope > .field-error, :scope .field-error");
  if (!error) return;
  error.textContent = message;
  error.hidden = false;
  const target = container.tagName === "FIELDSET" ? [container] : controlsOf(container);
  for (const control of target) {
    control.setAttribute("aria-invalid", "true");
    describedBy(control, error.id);
  }
}

export function clearFieldError(container) {
  const error = container.querySelector(".field-error");
  if (!error || error.hidden) return;
  error.hidden = true;
  error.textContent = "";
  const target = container.tagName === "FIELDSET" ? [container] : controlsOf(container);
  for (const control of target) {
    control.removeAttribute("aria-invalid");
    removeDescribedBy(control, error.id);
  }
}

/** The form-level message box: an alert that screen readers read when it appears. */
export function formAlert() {
  return h("div", { class: "form-alert", role: "alert", hidden: true });
}

/**
 * Shows `error` (an ApiError or {code, detail}) in `form`: next to the field that `fieldFor(error)`
 * names (a `data-field` value), else in the form's alert. Focuses the field so the person lands on it.
 */
export function showFormError(form, error, fieldFor = () => null) {
  if (error && error.handled) return;
  const name = fieldFor(error);
  const container = name ? form.querySelector(`[data-field="${name}"]`) : null;
  const message = humanize(error);
  if (container) {
    setFieldError(container, message);
    const control = controlsOf(container)[0];
    if (control) control.focus();
    return;
  }
  const alert = form.querySelector(".form-alert");
  if (alert) {
    alert.textContent = message;
    alert.hidden = false;
  }
}

export function clearFormErrors(form) {
  for (const container of form.querySelectorAll("[data-field]")) clearFieldError(container);
  const alert = form.querySelector(".form-alert");
  if (alert) {
    alert.hidden = true;
    alert.textContent = "";
  }
}

/** An API detail as a sentence: capitalised (unless it starts with a name such as a domain or a
 * field, which keep their spelling) and with a full stop. */
export function humanize(error) {
  const detail = (error && (error.detail || error.message)) || "Something went wrong.";
  const firstWord = detail.split(/\s/, 1)[0];
  const sentence = /^[a-z]+$/.test(firstWord) ? detail.charAt(0).toUpperCase() + detail.slice(1) : detail;
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}

/** Characters as the server counts them (user-perceived characters, after trimming). */
export function characterCount(text) {
  const trimmed = text.trim();
  if (typeof Intl !== "undefined" && Intl.Segmenter) return [...new Intl.Segmenter().segment(trimmed)].length;
  return [...trimmed].length;
}

/** Marks the first field longer than its `maxLength` (see `textField`); true when there was one. */
function refuseTooLong(form) {
  for (const control of form.querySelectorAll("[data-max-length]")) {
    const limit = Number(control.dataset.maxLength);
    const count = characterCount(control.value || "");
    if (count <= limit) continue;
    const container = control.closest("[data-field]");
    const label = form.querySelector(`label[for="${control.id}"]`);
    const name = label ? label.textContent.trim() : "This field";
    if (container) setFieldError(container, `${name} must be at most ${limit} characters; this one has ${count}.`);
    control.focus();
    return true;
  }
  return false;
}

/**
 * Wires a form's submit: clears old errors, marks the form busy and its submit button disabled
 * while `action` runs, and routes a failure to `showFormError`.
 */
export function onSubmit(form, action, fieldFor) {
  form.noValidate = true;
  // Editing a field takes its error away: the message was about the old value.
  const clearOnEdit = (event) => {
    const container = event.target.closest("[data-field]");
    if (container && form.contains(container)) clearFieldError(container);
  };
  form.addEventListener("input", clearOnEdit);
  form.addEventListener("change", clearOnEdit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    clearFormErrors(form);
    // What the server would refuse is not sent.
    if (refuseTooLong(form)) return;
    const buttons = [...form.querySelectorAll("button[type=submit]")];
    form.setAttribute("aria-busy", "true");
    for (const button of buttons) button.disabled = true;
    try {
      await action(new FormData(form), event);
    } catch (error) {
      // A programming error (not an API problem) is logged for whoever debugs, and still shown.
      if (!error || error.code === undefined) console.error(error);
      showFormError(form, error, fieldFor);
    } finally {
      form.removeAttribute("aria-busy");
      for (const button of buttons) button.disabled = false;
    }
  });
}
