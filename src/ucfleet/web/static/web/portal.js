/* ucfleet portal: small progressive enhancements. Every page works without this script;
   it adds local-time hints, selection helpers, confirmations and the modal dialog. */
(function () {
  "use strict";

  var serverZone = document.body.dataset.serverZone;
  var browserZone = (Intl.DateTimeFormat().resolvedOptions() || {}).timeZone;

  /* R3: times are shown in server time; where the viewer's zone differs, add the local time
     in a compact form (time only when the calendar day is the same). */
  function localParts(when) {
    var parts = {};
    new Intl.DateTimeFormat("en-CA", {
      timeZone: browserZone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short"
    }).formatToParts(when).forEach(function (p) { parts[p.type] = p.value; });
    return parts;
  }

  function annotateTimes(root) {
    if (!browserZone || browserZone === serverZone) return;
    var label = document.body.dataset.localLabel || "local";
    root.querySelectorAll("time[data-server-time]:not([data-local-done])").forEach(function (el) {
      el.setAttribute("data-local-done", "1");
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      var p = localParts(when);
      var day = p.year + "-" + p.month + "-" + p.day;
      var clock = p.hour + ":" + p.minute + " " + (p.timeZoneName || "");
      var serverDay = ((el.textContent || "").match(/\d{4}-\d{2}-\d{2}/) || [""])[0];
      var text = (day === serverDay ? "" : day + " ") + clock;
      if (el.dataset.end) {
        var e = localParts(new Date(el.dataset.end));
        var endDay = e.year + "-" + e.month + "-" + e.day;
        text = (day === serverDay ? "" : day + " ") + p.hour + ":" + p.minute + " – " +
          (endDay === day ? "" : endDay + " ") + e.hour + ":" + e.minute + " " + (e.timeZoneName || "");
      }
      var hint = document.createElement("small");
      hint.className = "local-time";
      hint.textContent = text;
      hint.title = label + " (" + browserZone + ")";
      el.title = el.title + " · " + label + ": " + day + " " + clock + " (" + browserZone + ")";
      el.appendChild(hint);
    });
    var zoneNote = document.querySelector("[data-your-zone]");
    if (zoneNote && !zoneNote.textContent) {
      zoneNote.textContent = " · " + label + ": " + browserZone;
    }
  }

  function updateSelection(root) {
    var form = document.getElementById("bulk-form");
    if (!form) return;
    var boxes = document.querySelectorAll('input[name="ids"][form="bulk-form"]');
    var checked = Array.prototype.filter.call(boxes, function (b) { return b.checked; }).length;
    document.querySelectorAll("[data-needs-selection]").forEach(function (btn) {
      btn.disabled = checked === 0;
    });
    var counter = document.querySelector("[data-selection-count]");
    if (counter) {
      counter.textContent = checked ? counter.dataset.template.replace("{n}", checked) : "";
    }
  }

  /* Wizard: a partner's checkbox selects all of its UC tenants; a tenant unchecked
     unselects the partner (the rest stay selected one by one). */
  function syncGroup(group) {
    var partnerBox = group.querySelector("[data-group-select]");
    if (!partnerBox) return;
    group.querySelectorAll("[data-tenant-select]").forEach(function (box) {
      box.checked = partnerBox.checked;
    });
  }

  function showCustomTime() {
    var chosen = document.querySelector('input[name="timing"]:checked');
    document.querySelectorAll("[data-show-when]").forEach(function (el) {
      var parts = el.dataset.showWhen.split("=");
      el.hidden = !(chosen && chosen.name === parts[0] && chosen.value === parts[1]);
    });
  }

  function clearPreview(form) {
    var target = form.dataset.clearOnChange && document.querySelector(form.dataset.clearOnChange);
    if (target) target.innerHTML = "";
  }

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches("[data-select-all]")) {
      document.querySelectorAll('input[name="' + el.dataset.selectAll + '"]').forEach(function (box) {
        box.checked = el.checked;
      });
    }
    if (el.matches("[data-group-select]")) {
      syncGroup(el.closest(".partner-group"));
    }
    if (el.matches("[data-tenant-select]") && !el.checked) {
      var group = el.closest(".partner-group");
      var partnerBox = group && group.querySelector("[data-group-select]");
      if (partnerBox) partnerBox.checked = false;
    }
    if (el.name === "timing") showCustomTime();
    var form = el.form || el.closest("form");
    if (form && form.dataset.clearOnChange && !el.closest(form.dataset.clearOnChange)) {
      clearPreview(form);
    }
    updateSelection();
  });

  document.addEventListener("click", function (event) {
    var el = event.target.closest("button, a");
    if (!el) return;
    if (el.dataset.confirm && !window.confirm(el.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    if (el.dataset.toggle) {
      var panel = document.querySelector(el.dataset.toggle);
      if (panel) {
        panel.hidden = !panel.hidden;
        var first = panel.querySelector("input");
        if (!panel.hidden && first) first.focus();
      }
    }
    if (el.dataset.details) {
      var row = document.querySelector(el.dataset.details);
      if (row) {
        row.hidden = !row.hidden;
        el.setAttribute("aria-expanded", String(!row.hidden));
      }
    }
    if (el.hasAttribute("data-group-toggle")) {
      var body = el.closest(".partner-group").querySelector(".group-body");
      body.hidden = !body.hidden;
      el.setAttribute("aria-expanded", String(!body.hidden));
    }
    if (el.dataset.selectScope) {
      var scope = document.querySelector(el.dataset.selectScope);
      var on = el.dataset.select === "all";
      scope.querySelectorAll("[data-group-select]:not(:disabled), [data-tenant-select]").forEach(
        function (box) { box.checked = on; });
      var form = document.getElementById("wizard");
      if (form) clearPreview(form);
    }
    if (el.dataset.addForm) {
      var list = document.querySelector(el.dataset.addForm);
      var template = document.querySelector(el.dataset.template);
      var total = document.querySelector('input[name="' + el.dataset.prefix + '-TOTAL_FORMS"]');
      if (list && template && total) {
        var html = template.innerHTML.replace(/__prefix__/g, total.value);
        list.insertAdjacentHTML("beforeend", html);
        total.value = String(Number(total.value) + 1);
        if (window.htmx) window.htmx.process(list.lastElementChild);
      }
    }
    if (el.dataset.fillWaves !== undefined) {
      /* Wizard: take the rollout suggested for a large selection, then preview again. */
      var waves = document.getElementById("id_waves");
      var budget = document.getElementById("id_error_budget");
      if (waves) waves.value = el.dataset.fillWaves;
      if (budget) budget.value = el.dataset.fillBudget || "";
      var again = document.querySelector('#wizard button[name="action"][value="preview"]');
      if (again) window.setTimeout(function () { again.click(); }, 0);
    }
    if (el.hasAttribute("data-close-modal")) {
      var dialog = el.closest("dialog");
      if (dialog) { event.preventDefault(); dialog.close(); }
    }
  }, true);

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    annotateTimes(target);
    if (target.id === "modal-body") {
      var dialog = document.getElementById("modal");
      if (dialog && !dialog.open) dialog.showModal();
      var input = target.querySelector("input:not([type=hidden])");
      if (input) input.focus();
    }
    if (target.classList && target.classList.contains("group-body")) {
      var group = target.closest(".partner-group");
      var partnerBox = group.querySelector("[data-group-select]");
      if (partnerBox && partnerBox.checked) syncGroup(group);
    }
    updateSelection();
  });
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    annotateTimes(event.detail.target.parentNode || document);
  });

  document.addEventListener("DOMContentLoaded", function () {
    annotateTimes(document);
    showCustomTime();
    updateSelection();
  });
})();

/* Behaviours that used to be inline attributes or scripts in the templates: the
   Content-Security-Policy (docs/security.md) runs no inline script, so they live here. */
(function () {
  "use strict";

  /* <select data-autosubmit>: choosing sends the form (the language switch). */
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) el.form.submit();
  });

  /* <a data-history-back href="…">: back in the browser's history; the href is the fallback. */
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-history-back]");
    if (link && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });

  /* Change log: the CSV export link carries the list's current filters. */
  function updateCsvLink() {
    var link = document.getElementById("csv-export");
    if (!link) return;
    var query = window.location.search.replace(/^\?/, "").replace(/(^|&)(page|format)=[^&]*/g, "");
    link.href = "?" + (query ? query.replace(/^&/, "") + "&" : "") + "format=csv";
  }
  document.addEventListener("DOMContentLoaded", updateCsvLink);
  document.addEventListener("htmx:afterSettle", updateCsvLink);
  document.addEventListener("htmx:pushedIntoHistory", updateCsvLink);

  /* <a data-export-link>: the task and tenant lists' CSV export takes the filters the list
     shows now (htmx pushes them into the address), whatever the page was rendered with. */
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-export-link]");
    if (link) link.search = window.location.search;
  });
})();
