/* The groups editor of experiments (progressive enhancement, like rules.js).
 *
 *   <div data-groups-editor="id_groups" data-sizes-locked="false" data-layer-select="id_layer">
 *     <div class="groups-editor-fallback">   the groups as JSON in <textarea id="id_groups">
 *     <div class="groups-editor-ui" hidden>  a table: name, size (%), parameter values (JSON), description
 *   <script type="application/json" id="id_groups-layers">  {layer id: [{name, type, defaultValue}]}
 *
 * The table writes the groups back into the textarea as JSON, so the form posts the same field
 * with or without JavaScript; the sizes' total is shown as you type (it must be 100) and the
 * experiment service has the last word.
 */
(function () {
  "use strict";

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(function ([key, value]) {
      if (value === undefined || value === null || value === false) return;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "value") node.value = value;
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function round1(n) {
    return Math.round(n * 10) / 10;
  }

  function mount(root) {
    const fieldId = root.dataset.groupsEditor;
    const textarea = document.getElementById(fieldId);
    const layersNode = document.getElementById(fieldId + "-layers");
    const layerSelect = root.dataset.layerSelect ? document.getElementById(root.dataset.layerSelect) : null;
    const locked = root.dataset.sizesLocked === "true";
    const layers = layersNode ? JSON.parse(layersNode.textContent) : {};
    const fallback = root.querySelector(".groups-editor-fallback");
    const ui = root.querySelector(".groups-editor-ui");
    const summary = root.querySelector(".groups-editor-summary");
    let groups;
    try {
      groups = JSON.parse(textarea.value.trim() || "[]");
      if (!Array.isArray(groups)) throw new Error("not a list");
    } catch (error) {
      return;
    }
    const state = groups.map(function (group) {
      return Object.assign({}, group, {
        valuesText: JSON.stringify(group.parameterValues || {}, null, 2),
      });
    });

    function serialise() {
      return state.map(function (group) {
        const out = {};
        if (group.id) out.id = group.id;
        out.name = group.name || "";
        const size = Number(group.size);
        out.size = group.size === "" || isNaN(size) ? group.size : size;
        try {
          out.parameterValues = JSON.parse(group.valuesText || "{}");
        } catch (error) {
          out.parameterValues = group.valuesText;
        }
        if (group.description) out.description = group.description;
        if (group.disabled) out.disabled = true;
        return out;
      });
    }

    function sync() {
      textarea.value = JSON.stringify(serialise(), null, 2);
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
      updateTotal();
    }

    const total = el("span", { class: "size-total", "aria-live": "polite", "data-size-total": true });
    function updateTotal() {
      const sum = round1(state.reduce(function (acc, group) { return acc + (Number(group.size) || 0); }, 0));
      total.textContent = "Total " + sum + "%" + (sum === 100 ? " ✓" : " — sizes must add up to 100%");
      total.classList.toggle("is-invalid", sum !== 100);
    }

    function layerHint() {
      if (!layerSelect || !layerSelect.value) return null;
      const parameters = layers[layerSelect.value] || [];
      if (!parameters.length) return el("p", { class: "small text-body-secondary", text: "The layer has no parameters yet." });
      return el("p", { class: "small text-body-secondary mb-2" }, [
        "Parameters of the layer: ",
        ...parameters.map(function (p, i) {
          return el("span", {}, [el("code", { text: p.name }), " (" + p.type + ", default " + JSON.stringify(p.defaultValue) + ")" + (i < parameters.length - 1 ? ", " : "")]);
        }),
      ]);
    }

    function render(focusIndex) {
      ui.replaceChildren();
      const hint = layerHint();
      if (hint) ui.appendChild(hint);
      const rows = state.map(function (group, index) {
        const label = "group " + (index + 1);
        const values = el("textarea", {
          class: "form-control form-control-sm font-monospace", rows: 2, spellcheck: "false",
          "aria-label": "Parameter values of " + label + " (JSON object)",
          "data-group-values": true,
        });
        values.value = group.valuesText;
        values.addEventListener("input", function () {
          group.valuesText = values.value;
          try {
            const parsed = JSON.parse(values.value || "{}");
            values.classList.toggle("is-invalid", typeof parsed !== "object" || parsed === null || Array.isArray(parsed));
          } catch (error) {
            values.classList.add("is-invalid");
          }
          sync();
        });
        return el("tr", { class: "group-row", "data-group-index": index }, [
          el("td", {}, [el("input", {
            type: "text", class: "form-control form-control-sm", value: group.name || "",
            "aria-label": "Name of " + label, "data-group-name": true,
            oninput: function (event) { group.name = event.target.value; sync(); },
          })]),
          el("td", {}, [el("div", { class: "input-group input-group-sm group-size" }, [
            el("input", {
              type: "number", min: 0, max: 100, step: "0.1", class: "form-control",
              value: group.size, disabled: locked,
              "aria-label": "Size of " + label + " (%)", "data-group-size": true,
              oninput: function (event) { group.size = event.target.value; sync(); },
            }),
            el("span", { class: "input-group-text", text: "%" }),
          ])]),
          el("td", {}, [values]),
          el("td", {}, [el("input", {
            type: "text", class: "form-control form-control-sm", value: group.description || "",
            "aria-label": "Description of " + label,
            oninput: function (event) { group.description = event.target.value; sync(); },
          })]),
          el("td", { class: "text-end" }, [locked ? null : el("button", {
            type: "button", class: "btn btn-sm btn-outline-secondary", text: "×",
            "aria-label": "Remove " + label, disabled: state.length <= 2,
            onclick: function () { state.splice(index, 1); render(); sync(); },
          })]),
        ]);
      });
      ui.appendChild(el("div", { class: "table-responsive" }, [el("table", { class: "table table-sm align-top mb-2" }, [
        el("thead", {}, [el("tr", {}, [
          el("th", { scope: "col", text: "Group" }),
          el("th", { scope: "col", text: "Size" }),
          el("th", { scope: "col", text: "Parameter values" }),
          el("th", { scope: "col", text: "Description" }),
          el("th", { scope: "col" }, [el("span", { class: "visually-hidden", text: "Actions" })]),
        ])]),
        el("tbody", {}, rows),
      ])]));
      ui.appendChild(el("div", { class: "d-flex flex-wrap align-items-center gap-2" }, [
        locked ? null : el("button", {
          type: "button", class: "btn btn-sm btn-outline-primary", text: "+ Add group", "data-add-group": true,
          onclick: function () {
            state.push({ name: "Test " + state.length, size: 0, valuesText: "{}" });
            render(state.length - 1);
            sync();
          },
        }),
        locked ? null : el("button", {
          type: "button", class: "btn btn-sm btn-outline-secondary", text: "Split evenly",
          onclick: function () {
            const tenths = 1000;
            const base = Math.floor(tenths / state.length);
            state.forEach(function (group, index) {
              group.size = (base + (index < tenths - base * state.length ? 1 : 0)) / 10;
            });
            render();
            sync();
          },
        }),
        total,
      ]));
      updateTotal();
      if (focusIndex !== undefined) {
        const input = ui.querySelector('[data-group-index="' + focusIndex + '"] [data-group-name]');
        if (input) input.focus();
      }
    }

    if (layerSelect) layerSelect.addEventListener("change", function () { render(); });
    fallback.hidden = true;
    ui.hidden = false;
    if (summary) summary.hidden = false;
    render();
  }

  function start() {
    document.querySelectorAll("[data-groups-editor]").forEach(mount);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
