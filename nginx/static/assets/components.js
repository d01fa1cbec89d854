// Pieces several pages share: the copy box (tokens, the tracking snippet), dialogs, badges.

import { announce, copyText, h, uid } from "./dom.js";

/**
 * A value shown in full (wrapped, never cut off) with a Copy button and a status line saying
 * whether it worked. `label` names the value for screen readers.
 */
export function copyBox({ label, value, className, multiline = false }) {
  const valueId = uid("copy-value");
  const statusId = uid("copy-status");
  const code = h("code", { id: valueId, class: ["copy-value", multiline ? "multiline" : null], tabindex: "0", "aria-label": label }, value);
  const status = h("span", { class: "copy-status", id: statusId, role: "status" });
  const button = h("button", {
    type: "button", class: "button", "aria-describedby": statusId,
    onclick: async () => {
      const copied = await copyText(value, code);
      status.textContent = copied ? "Copied to the clipboard." : "Could not copy: select the text and copy it yourself.";
      if (copied) announce(`${label} copied to the clipboard.`);
    },
  }, "Copy");
  return h("div", { class: ["copy-box", className] }, code, h("div", { class: "copy-actions" }, button, status));
}

/**
 * A modal dialog (native <dialog>: focus stays inside, Escape closes it). `build(close)` returns
 * the body; resolves with what `close(value)` was given, or null when dismissed.
 */
export function openDialog({ title, build, describedBy }) {
  return new Promise((resolve) => {
    const titleId = uid("dialog-title");
    const dialog = h("dialog", { class: "dialog", "aria-labelledby": titleId });
    let result = null;
    const close = (value) => {
      result = value === undefined ? null : value;
      dialog.close();
    };
    const previousFocus = document.activeElement;
    dialog.append(h("h2", { id: titleId }, title), build(close, dialog));
    if (describedBy) dialog.setAttribute("aria-describedby", describedBy);
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (previousFocus && previousFocus.isConnected) previousFocus.focus();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

export function badge(text, kind = "") {
  return h("span", { class: ["badge", kind] }, text);
}

/** The embed snippet for this server's tracker. */
export function trackerSnippet() {
  return `<script defer src="${window.location.origin}/hk.js"></script>`;
}
