/* The rule editor of gates, dynamic configs and segments (progressive enhancement).
 *
 *   <div data-rule-editor="id_rules">            the field's id
 *     <div class="rule-editor-fallback">          the rules as JSON in <textarea id="id_rules">
 *     <div class="rule-editor-ui" hidden>         filled here
 *   <script type="application/json" id="id_rules-config">   console.web.editor.editor_config
 *
 * Without JavaScript the JSON textarea is the editor. With it, the textarea is hidden and every
 * change in the editor is written back into it as JSON, so the form posts the same field either
 * way and the same services validate it. Condition types, their operators and the shape of each
 * operator's value (list, number, version, time, regex, scalar, none) come from the config, i.e.
 * from ruleset.conditions. Errors the server found ({property: "rules[0].conditions[1].operator",
 * message}) are shown at the rule and condition they name.
 */
(function () {
  "use strict";

  let uid = 0;
  function nextId(prefix) {
    uid += 1;
    return prefix + "-" + uid;
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(function ([key, value]) {
      if (value === undefined || value === null || value === false) return;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "value") node.value = value;
      else if (key === "checked") node.checked = !!value;
      else if (key === "selected") node.selected = !!value;
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function labelled(labelText, input, extraClass) {
    const id = input.id || nextId("re");
    input.id = id;
    return el("div", { class: extraClass || "" }, [
      el("label", { class: "form-label small mb-1", for: id, text: labelText }),
      input,
    ]);
  }

  // --- values ---------------------------------------------------------------------------------

  function asList(value) {
    if (Array.isArray(value)) return value.map(String);
    if (value === null || value === undefined || value === "") return [];
    return [String(value)];
  }

  function asSingle(value) {
    if (Array.isArray(value)) return value.length ? String(value[0]) : "";
    if (value === null || value === undefined) return "";
    return String(value);
  }

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  // Epoch ms (or an ISO string) -> the value of <input type="datetime-local"> in local time.
  function toLocalInput(value) {
    if (value === null || value === undefined || value === "") return "";
    let date;
    if (typeof value === "number" || /^\d+$/.test(String(value))) {
      let number = Number(value);
      if (String(Math.abs(Math.trunc(number))).length < 11) number *= 1000;
      date = new Date(number);
    } else {
      date = new Date(String(value));
    }
    if (isNaN(date.getTime())) return "";
    return (
      date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
      "T" + pad(date.getHours()) + ":" + pad(date.getMinutes())
    );
  }

  function fromLocalInput(text) {
    if (!text) return "";
    const date = new Date(text);
    return isNaN(date.getTime()) ? text : date.toISOString();
  }

  function defaultValue(target) {
    if (target === "list") return [];
    if (target === "none") return null;
    return "";
  }

  function convertValue(value, fromTarget, toTarget) {
    if (fromTarget === toTarget) return value;
    if (toTarget === "list") return asList(value);
    if (toTarget === "none") return null;
    if (toTarget === "time") return "";
    return asSingle(value);
  }

  // --- the editor -------------------------------------------------------------------------------

  function mount(root) {
    const fieldId = root.dataset.ruleEditor;
    const textarea = document.getElementById(fieldId);
    const configNode = document.getElementById(fieldId + "-config");
    if (!textarea || !configNode) return;
    const config = JSON.parse(configNode.textContent);
    const types = {};
    config.types.forEach(function (type) {
      types[type.name] = type;
    });
    const fallback = root.querySelector(".rule-editor-fallback");
    const ui = root.querySelector(".rule-editor-ui");
    const summary = root.querySelector(".rule-editor-summary");

    let rules;
    try {
      rules = JSON.parse(textarea.value.trim() || "[]");
      if (!Array.isArray(rules)) throw new Error("not a list");
    } catch (error) {
      // Not valid JSON (typed without the editor): leave the textarea and its error visible.
      return;
    }

    let errors = config.errors || [];
    const state = rules.map(fromStored);

    function fromStored(rule) {
      const copy = Object.assign({}, rule);
      copy.conditions = (rule.conditions || []).map(function (condition) {
        return Object.assign({}, condition);
      });
      copy.passPercentage = rule.passPercentage === undefined ? 100 : rule.passPercentage;
      copy.environments = Array.isArray(rule.environments) ? rule.environments.slice() : null;
      if (config.returnValues) {
        copy.returnValueText = JSON.stringify(
          rule.returnValue === undefined ? {} : rule.returnValue, null, 2
        );
      }
      return copy;
    }

    function operatorOf(condition) {
      const type = types[condition.type];
      if (!type || !type.operators) return null;
      return type.operators.find(function (op) {
        return op.name === condition.operator;
      }) || null;
    }

    function targetOf(condition) {
      const operator = operatorOf(condition);
      return operator ? operator.target : null;
    }

    function serialiseCondition(condition) {
      const type = types[condition.type];
      const out = { type: condition.type };
      if (!type) return Object.assign({}, condition);
      if (type.operators) {
        out.operator = condition.operator;
        const target = targetOf(condition);
        let value = condition.targetValue;
        if (target === "list") value = asList(value);
        else if (target === "none") value = null;
        else if (target === "number") {
          const text = asSingle(value).trim();
          value = text !== "" && !isNaN(Number(text)) ? Number(text) : text;
        } else value = asSingle(value);
        out.targetValue = value;
      } else if (type.reference) {
        out.targetValue = asSingle(condition.targetValue);
      }
      if (type.needsField) out.field = condition.field || "";
      if (type.needsCustomID) out.customID = condition.customID || "";
      return out;
    }

    function serialise() {
      return state.map(function (rule) {
        const out = {};
        if (rule.id) out.id = rule.id;
        if (rule.baseID) out.baseID = rule.baseID;
        out.name = rule.name || "";
        const pct = Number(rule.passPercentage);
        out.passPercentage = rule.passPercentage === "" || isNaN(pct) ? rule.passPercentage : pct;
        out.conditions = rule.conditions.map(serialiseCondition);
        out.environments = rule.environments && rule.environments.length ? rule.environments : null;
        if (config.returnValues) {
          try {
            out.returnValue = JSON.parse(rule.returnValueText || "{}");
          } catch (error) {
            out.returnValue = rule.returnValueText;
          }
        }
        return out;
      });
    }

    function sync() {
      textarea.value = JSON.stringify(serialise(), null, 2);
      // console.js's unsaved-change warning listens for input events in the form.
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }

    // --- errors ---

    function errorsFor(ruleIndex, conditionIndex) {
      const found = [];
      errors.forEach(function (error) {
        const match = /^rules\[(\d+)\](?:\.conditions\[(\d+)\])?(?:\.([A-Za-z]+))?/.exec(error.property);
        if (!match) return;
        if (Number(match[1]) !== ruleIndex) return;
        const cIndex = match[2] === undefined ? null : Number(match[2]);
        if (cIndex !== conditionIndex) return;
        found.push({ field: match[3] || "", message: error.message });
      });
      return found;
    }

    function errorList(items) {
      if (!items.length) return null;
      return el("div", { class: "invalid-feedback d-block", role: "alert" },
        items.map(function (item) { return el("div", { text: item.message }); }));
    }

    function hasError(items, field) {
      return items.some(function (item) { return item.field === field; });
    }

    // --- chips (values of list operators) ---

    function chips(condition, labelText, invalid, onChange) {
      const values = asList(condition.targetValue);
      condition.targetValue = values;
      const wrapper = el("div", { class: "chips form-control" + (invalid ? " is-invalid" : "") });
      const input = el("input", {
        type: "text",
        class: "chip-input",
        "aria-label": labelText + ": type a value and press Enter",
        placeholder: values.length ? "" : "Type a value, press Enter",
      });

      function draw() {
        wrapper.querySelectorAll(".chip").forEach(function (chip) { chip.remove(); });
        values.forEach(function (value, index) {
          const chip = el("span", { class: "chip" }, [
            el("span", { class: "chip-text", text: value }),
            el("button", {
              type: "button",
              class: "chip-remove",
              "aria-label": "Remove " + value,
              text: "×",
              onclick: function () {
                values.splice(index, 1);
                draw();
                onChange();
                input.focus();
              },
            }),
          ]);
          wrapper.insertBefore(chip, input);
        });
        input.placeholder = values.length ? "" : "Type a value, press Enter";
      }

      function add(text) {
        text.split(/[\n,]+/).forEach(function (part) {
          const value = part.trim();
          if (value && values.indexOf(value) === -1) values.push(value);
        });
        draw();
        onChange();
      }

      input.addEventListener("keydown", function (event) {
        if ((event.key === "Enter" || event.key === ",") && input.value.trim()) {
          event.preventDefault();
          add(input.value);
          input.value = "";
        } else if (event.key === "Enter") {
          event.preventDefault();
        } else if (event.key === "Backspace" && !input.value && values.length) {
          values.pop();
          draw();
          onChange();
        }
      });
      input.addEventListener("paste", function (event) {
        const text = (event.clipboardData || window.clipboardData).getData("text");
        if (/[\n,]/.test(text)) {
          event.preventDefault();
          add(text);
        }
      });
      input.addEventListener("blur", function () {
        if (input.value.trim()) {
          add(input.value);
          input.value = "";
        }
      });
      wrapper.addEventListener("click", function (event) {
        if (event.target === wrapper) input.focus();
      });
      wrapper.appendChild(input);
      draw();
      return wrapper;
    }

    // --- one condition ---

    function referencePicker(condition, type, invalid) {
      const options = type.reference === "gate" ? config.gates : config.segments;
      const current = asSingle(condition.targetValue);
      const select = el("select", {
        class: "form-select form-select-sm" + (invalid ? " is-invalid" : ""),
        "aria-label": type.reference === "gate" ? "Gate" : "Segment",
        "data-condition-value": true,
        onchange: function () {
          condition.targetValue = select.value;
          sync();
        },
      }, [el("option", { value: "", text: "Choose a " + type.reference + "…" })]);
      let found = false;
      options.forEach(function ([id, name]) {
        if (id === current) found = true;
        select.appendChild(el("option", {
          value: id, text: name === id ? id : name + " (" + id + ")", selected: id === current,
        }));
      });
      if (current && !found) {
        select.appendChild(el("option", { value: current, text: current, selected: true }));
      }
      return select;
    }

    function valueInput(condition, ruleIndex, conditionIndex, invalid) {
      const type = types[condition.type];
      if (!type) return el("span", { class: "small text-body-secondary", text: "Unknown type" });
      if (!type.operators) {
        if (type.reference) return referencePicker(condition, type, invalid);
        return el("span", { class: "small text-body-secondary", text: "Matches every user" });
      }
      const target = targetOf(condition);
      const labelText = "Values of condition " + (conditionIndex + 1) + " of rule " + (ruleIndex + 1);
      const cls = "form-control form-control-sm" + (invalid ? " is-invalid" : "");
      function update(value) {
        condition.targetValue = value;
        sync();
      }
      if (target === "list") {
        return chips(condition, labelText, invalid, sync);
      }
      if (target === "none") {
        return el("span", { class: "small text-body-secondary", text: "No value needed" });
      }
      if (target === "time") {
        const wrap = el("div", {}, [
          el("input", {
            type: "datetime-local",
            class: cls,
            "aria-label": labelText + " (your local time)",
            "data-condition-value": true,
            value: toLocalInput(condition.targetValue),
            oninput: function (event) { update(fromLocalInput(event.target.value)); },
          }),
          el("div", { class: "form-text", text: "Your local time" }),
        ]);
        return wrap;
      }
      const attrs = {
        type: target === "number" ? "number" : "text",
        step: target === "number" ? "any" : null,
        class: cls + (target === "regex" ? " font-monospace" : ""),
        "aria-label": labelText,
        "data-condition-value": true,
        placeholder: target === "version" ? "1.2.3" : target === "regex" ? "^beta-.*" : "Value",
        value: asSingle(condition.targetValue),
        oninput: function (event) { update(event.target.value); },
      };
      return el("input", attrs);
    }

    function conditionRow(rule, ruleIndex, condition, conditionIndex) {
      const type = types[condition.type];
      const problems = errorsFor(ruleIndex, conditionIndex);
      const rowLabel = "condition " + (conditionIndex + 1) + " of rule " + (ruleIndex + 1);
      const typeSelect = el("select", {
        class: "form-select form-select-sm" + (hasError(problems, "type") ? " is-invalid" : ""),
        "aria-label": "Type of " + rowLabel,
        "data-condition-type": true,
        onchange: function () {
          const next = types[typeSelect.value];
          const before = targetOf(condition);
          condition.type = typeSelect.value;
          if (next.operators) {
            const keep = next.operators.find(function (op) { return op.name === condition.operator; });
            condition.operator = keep ? keep.name : next.operators[0].name;
            condition.targetValue = convertValue(condition.targetValue, before, targetOf(condition));
          } else {
            delete condition.operator;
            condition.targetValue = next.reference ? "" : null;
          }
          if (!next.needsField) delete condition.field;
          if (!next.needsCustomID) delete condition.customID;
          errors = [];
          render(ruleIndex, conditionIndex, "[data-condition-type]");
          sync();
        },
      });
      config.types.forEach(function (option) {
        typeSelect.appendChild(el("option", {
          value: option.name, text: option.label, selected: option.name === condition.type,
        }));
      });
      if (!type) {
        typeSelect.appendChild(el("option", { value: condition.type, text: condition.type, selected: true }));
      }
      const parts = [el("div", { class: "col-sm-6 col-lg-3" }, [typeSelect])];
      if (type && type.needsField) {
        parts.push(el("div", { class: "col-sm-6 col-lg-2" }, [el("input", {
          type: "text",
          class: "form-control form-control-sm" + (hasError(problems, "field") ? " is-invalid" : ""),
          placeholder: "field name",
          "aria-label": "Custom field name of " + rowLabel,
          value: condition.field || "",
          oninput: function (event) { condition.field = event.target.value; sync(); },
        })]));
      }
      if (type && type.needsCustomID) {
        parts.push(el("div", { class: "col-sm-6 col-lg-2" }, [el("input", {
          type: "text",
          class: "form-control form-control-sm" + (hasError(problems, "customID") ? " is-invalid" : ""),
          placeholder: "unit type, e.g. companyID",
          "aria-label": "Unit type of " + rowLabel,
          value: condition.customID || "",
          oninput: function (event) { condition.customID = event.target.value; sync(); },
        })]));
      }
      if (type && type.operators) {
        const operatorSelect = el("select", {
          class: "form-select form-select-sm" + (hasError(problems, "operator") ? " is-invalid" : ""),
          "aria-label": "Operator of " + rowLabel,
          "data-condition-operator": true,
          onchange: function () {
            const before = targetOf(condition);
            condition.operator = operatorSelect.value;
            condition.targetValue = convertValue(condition.targetValue, before, targetOf(condition));
            render(ruleIndex, conditionIndex, "[data-condition-operator]");
            sync();
          },
        });
        type.operators.forEach(function (op) {
          operatorSelect.appendChild(el("option", {
            value: op.name, text: op.label, selected: op.name === condition.operator,
          }));
        });
        parts.push(el("div", { class: "col-sm-6 col-lg-3" }, [operatorSelect]));
      }
      parts.push(el("div", { class: "col" }, [
        valueInput(condition, ruleIndex, conditionIndex, hasError(problems, "targetValue")),
      ]));
      parts.push(el("div", { class: "col-auto" }, [el("button", {
        type: "button",
        class: "btn btn-sm btn-outline-secondary",
        "aria-label": "Remove " + rowLabel,
        title: "Remove condition",
        text: "×",
        onclick: function () {
          rule.conditions.splice(conditionIndex, 1);
          errors = [];
          render(ruleIndex, null, "[data-add-condition]");
          sync();
        },
      })]));
      const messages = errorList(problems);
      if (messages) parts.push(el("div", { class: "col-12 mt-0" }, [messages]));
      return el("div", {
        class: "condition row g-2 align-items-start mb-2",
        "data-condition-index": conditionIndex,
      }, parts);
    }

    // --- one rule ---

    function percentControl(rule, ruleIndex, invalid) {
      const id = nextId("pct");
      const number = el("input", {
        type: "number", min: 0, max: 100, step: "any", id: id,
        class: "form-control form-control-sm pct-number" + (invalid ? " is-invalid" : ""),
        value: rule.passPercentage,
        "data-pass-percentage": true,
      });
      const range = el("input", {
        type: "range", min: 0, max: 100, step: 1,
        class: "form-range",
        value: Number(rule.passPercentage) || 0,
        "aria-label": "Pass percentage of rule " + (ruleIndex + 1) + " (slider)",
      });
      number.addEventListener("input", function () {
        rule.passPercentage = number.value;
        range.value = Number(number.value) || 0;
        sync();
      });
      range.addEventListener("input", function () {
        rule.passPercentage = Number(range.value);
        number.value = range.value;
        sync();
      });
      return el("div", { class: "col-md-5" }, [
        el("label", { class: "form-label small mb-1", for: id, text: config.returnValues ? "Users who get this value (%)" : "Pass percentage" }),
        el("div", { class: "d-flex align-items-center gap-2" }, [
          range,
          el("div", { class: "input-group input-group-sm pct-group" }, [number, el("span", { class: "input-group-text", text: "%" })]),
        ]),
      ]);
    }

    function environmentControl(rule, ruleIndex) {
      const all = !rule.environments;
      const boxes = [];
      const allId = nextId("env");
      const allBox = el("input", {
        type: "checkbox", class: "form-check-input", id: allId, checked: all,
        "data-env-all": true,
        onchange: function () {
          rule.environments = allBox.checked ? null : [];
          render(ruleIndex, null, "[data-env-all]");
          sync();
        },
      });
      boxes.push(el("div", { class: "form-check form-check-inline" }, [
        allBox, el("label", { class: "form-check-label", for: allId, text: "All" }),
      ]));
      if (!all) {
        config.environments.forEach(function (name) {
          const id = nextId("env");
          const box = el("input", {
            type: "checkbox", class: "form-check-input", id: id, value: name,
            checked: rule.environments.indexOf(name) !== -1,
            onchange: function () {
              const set = rule.environments.filter(function (env) { return env !== name; });
              if (box.checked) set.push(name);
              rule.environments = config.environments.filter(function (env) { return set.indexOf(env) !== -1; });
              sync();
            },
          });
          boxes.push(el("div", { class: "form-check form-check-inline" }, [
            box, el("label", { class: "form-check-label", for: id, text: name }),
          ]));
        });
      }
      return el("fieldset", { class: "col-md-7" }, [
        el("legend", { class: "form-label small mb-1 fs-6", text: "Environments" }),
        el("div", {}, boxes),
      ]);
    }

    function returnValueControl(rule, ruleIndex, invalid) {
      const id = nextId("rv");
      const feedback = el("div", { class: "invalid-feedback" });
      const area = el("textarea", {
        id: id, rows: 3, spellcheck: "false",
        class: "form-control form-control-sm font-monospace" + (invalid ? " is-invalid" : ""),
        "data-return-value": true,
      });
      area.value = rule.returnValueText;
      area.addEventListener("input", function () {
        rule.returnValueText = area.value;
        try {
          const parsed = JSON.parse(area.value || "{}");
          if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("Must be a JSON object.");
          area.classList.remove("is-invalid");
        } catch (error) {
          area.classList.add("is-invalid");
          feedback.textContent = "Not a JSON object: " + error.message;
        }
        sync();
      });
      return el("div", { class: "col-12" }, [
        el("label", { class: "form-label small mb-1", for: id, text: "Return value (JSON object)" }),
        area,
        feedback,
      ]);
    }

    function moveRule(from, to) {
      const [rule] = state.splice(from, 1);
      state.splice(to, 0, rule);
      errors = [];
    }

    function ruleCard(rule, ruleIndex) {
      const problems = errorsFor(ruleIndex, null);
      const nameId = nextId("rule-name");
      const header = el("div", { class: "card-header d-flex flex-wrap align-items-center gap-2" }, [
        el("span", { class: "rule-number badge text-bg-secondary", text: String(ruleIndex + 1) }),
        el("label", { class: "visually-hidden", for: nameId, text: "Name of rule " + (ruleIndex + 1) }),
        el("input", {
          type: "text", id: nameId,
          class: "form-control form-control-sm rule-name" + (hasError(problems, "name") ? " is-invalid" : ""),
          placeholder: "Rule name, e.g. Employees",
          value: rule.name || "",
          "data-rule-name": true,
          oninput: function (event) { rule.name = event.target.value; sync(); },
        }),
        el("div", { class: "btn-group btn-group-sm ms-auto", role: "group", "aria-label": "Rule " + (ruleIndex + 1) }, [
          el("button", {
            type: "button", class: "btn btn-outline-secondary", disabled: ruleIndex === 0,
            "aria-label": "Move rule " + (ruleIndex + 1) + " up", title: "Move up", text: "↑",
            "data-move-up": true,
            onclick: function () { moveRule(ruleIndex, ruleIndex - 1); render(ruleIndex - 1, null, "[data-move-up]"); sync(); },
          }),
          el("button", {
            type: "button", class: "btn btn-outline-secondary", disabled: ruleIndex === state.length - 1,
            "aria-label": "Move rule " + (ruleIndex + 1) + " down", title: "Move down", text: "↓",
            "data-move-down": true,
            onclick: function () { moveRule(ruleIndex, ruleIndex + 1); render(ruleIndex + 1, null, "[data-move-down]"); sync(); },
          }),
          el("button", {
            type: "button", class: "btn btn-outline-danger",
            "aria-label": "Remove rule " + (ruleIndex + 1), text: "Remove",
            onclick: function () {
              if (!window.confirm("Remove rule “" + (rule.name || ruleIndex + 1) + "”?")) return;
              state.splice(ruleIndex, 1);
              errors = [];
              render(null, null, "[data-add-rule]");
              sync();
            },
          }),
        ]),
      ]);
      const conditionNodes = rule.conditions.map(function (condition, index) {
        return conditionRow(rule, ruleIndex, condition, index);
      });
      const body = el("div", { class: "card-body" }, [
        el("p", { class: "small text-body-secondary mb-2", text: rule.conditions.length ? "Users matching all of:" : "Everyone (no conditions). Add a condition to narrow it down." }),
        el("div", { class: "conditions" }, conditionNodes),
        el("button", {
          type: "button", class: "btn btn-sm btn-outline-primary mb-3",
          "data-add-condition": true,
          text: "+ Add condition",
          onclick: function () {
            const first = config.types.find(function (t) { return t.name !== "public"; }) || config.types[0];
            const condition = { type: first.name };
            if (first.operators) {
              condition.operator = first.operators[0].name;
              condition.targetValue = defaultValue(first.operators[0].target);
            }
            rule.conditions.push(condition);
            render(ruleIndex, rule.conditions.length - 1, "[data-condition-type]");
            sync();
          },
        }),
        el("div", { class: "row g-3" }, [
          percentControl(rule, ruleIndex, hasError(problems, "passPercentage")),
          environmentControl(rule, ruleIndex),
          config.returnValues ? returnValueControl(rule, ruleIndex, hasError(problems, "returnValue")) : null,
        ]),
        errorList(problems),
        rule.id ? el("p", { class: "small text-body-secondary mt-2 mb-0" }, ["Rule id ", el("code", { text: rule.id })]) : null,
      ]);
      return el("div", { class: "card rule mb-3", "data-rule-index": ruleIndex }, [header, body]);
    }

    // --- the whole editor ---

    function render(focusRule, focusCondition, focusSelector) {
      ui.replaceChildren();
      if (!state.length) {
        ui.appendChild(el("div", { class: "rule-empty border rounded p-3 mb-3 text-body-secondary small", text: config.returnValues ? "No rules: everyone gets the default value. Add a rule to give some users another value." : "No rules yet: nobody passes. Add a rule, e.g. users whose email ends with your company's domain." }));
      }
      state.forEach(function (rule, index) {
        ui.appendChild(ruleCard(rule, index));
      });
      const generalErrors = errors.filter(function (error) { return !/^rules\[\d+\]/.test(error.property); });
      if (generalErrors.length) {
        ui.appendChild(errorList(generalErrors.map(function (e) { return { message: e.message }; })));
      }
      ui.appendChild(el("div", { class: "d-flex flex-wrap gap-2" }, [
        el("button", {
          type: "button", class: "btn btn-outline-primary",
          disabled: state.length >= (config.maxRules || 200),
          "data-add-rule": true,
          text: "+ Add rule",
          onclick: function () {
            state.push({ name: "", passPercentage: 100, conditions: [], environments: null, returnValueText: "{}" });
            render(state.length - 1, null, "[data-rule-name]");
            sync();
          },
        }),
        el("button", {
          type: "button", class: "btn btn-link btn-sm ms-auto",
          text: "Edit as JSON",
          onclick: function () {
            sync();
            ui.hidden = true;
            fallback.hidden = false;
            textarea.focus();
          },
        }),
      ]));
      if (focusSelector) {
        let scope = ui;
        if (focusRule !== null && focusRule !== undefined) {
          scope = ui.querySelector('[data-rule-index="' + focusRule + '"]') || ui;
          if (focusCondition !== null && focusCondition !== undefined) {
            scope = scope.querySelector('[data-condition-index="' + focusCondition + '"]') || scope;
          }
        }
        const target = scope.querySelector(focusSelector) || ui.querySelector(focusSelector);
        if (target && !target.disabled) target.focus();
      }
    }

    // Editing the JSON by hand, then going back to the editor.
    const back = el("button", {
      type: "button", class: "btn btn-link btn-sm px-0", text: "Back to the rule editor",
      onclick: function () {
        let parsed;
        try {
          parsed = JSON.parse(textarea.value.trim() || "[]");
          if (!Array.isArray(parsed)) throw new Error("The rules must be a JSON list.");
        } catch (error) {
          window.alert("The JSON is not valid: " + error.message);
          return;
        }
        state.splice(0, state.length, ...parsed.map(fromStored));
        errors = [];
        fallback.hidden = true;
        ui.hidden = false;
        render();
        sync();
      },
    });
    fallback.appendChild(back);

    fallback.hidden = true;
    ui.hidden = false;
    if (summary) summary.hidden = false;
    render();
  }

  // JSON textareas (default values, schemas, test users): say at once whether the JSON parses,
  // and offer to format it. The server validates what the value means.
  function enhanceJson(area) {
    if (area.dataset.jsonEnhanced || area.closest(".rule-editor-fallback")) return;
    area.dataset.jsonEnhanced = "1";
    const status = el("div", { class: "form-text json-status", "aria-live": "polite" });
    const format = el("button", {
      type: "button", class: "btn btn-link btn-sm p-0 ms-2", text: "Format",
      onclick: function () {
        try {
          area.value = JSON.stringify(JSON.parse(area.value), null, 2);
          area.dispatchEvent(new Event("input", { bubbles: true }));
        } catch (error) { /* the status line already says why */ }
      },
    });
    function check() {
      const text = area.value.trim();
      if (!text) {
        status.textContent = "";
        area.classList.remove("is-invalid");
        format.hidden = true;
        return;
      }
      try {
        JSON.parse(text);
        status.textContent = "Valid JSON";
        status.classList.remove("text-danger");
        format.hidden = false;
        if (!area.dataset.serverError) area.classList.remove("is-invalid");
      } catch (error) {
        status.textContent = "Not valid JSON: " + error.message;
        status.classList.add("text-danger");
        format.hidden = true;
      }
    }
    if (area.classList.contains("is-invalid")) area.dataset.serverError = "1";
    area.addEventListener("input", function () {
      delete area.dataset.serverError;
      check();
    });
    const line = el("div", { class: "d-flex align-items-baseline" }, [status, format]);
    area.insertAdjacentElement("afterend", line);
    check();
  }

  function start() {
    document.querySelectorAll("[data-rule-editor]").forEach(mount);
    document.querySelectorAll("textarea.json-input").forEach(enhanceJson);
    document.body.addEventListener("htmx:afterSwap", function (event) {
      event.target.querySelectorAll("textarea.json-input").forEach(enhanceJson);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
