// Page-side helpers of benchmarks/bench_browser.py, installed once per tab as window.__lw.
//
// An edit is timed from the control's change (the dispatch, at a random point of the frame:
// randomPhase) until every expected part of the view shows its new state: a stage's <image>
// has a new href and the browser has painted that picture (its Element Timing entry's
// renderTime: the href changes before the bytes are loaded and drawn); a focus figure without
// a picture, the first animation frame after its cells have new fills. A MutationObserver
// notices the changes (no polling delay). Kernel messages are stamped when the page receives them (the kernel connection's
// anyMessage signal fires as each websocket message is decoded, before it is handled).
(() => {
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // A seeded generator (mulberry32), so every run draws the same sequence of phases.
  let state = 0x2545f491;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  const lw = {
    log: [], // {t, kind}: 'sent' (an edit left), 'busy', 'idle', 'batch' (an update arrived)

    // Timed edits start at a random point of the frame interval, drawn anew for each edit.
    // Without it, each edit was dispatched a steady few ms after the report of the previous
    // edit's paint, so every edit of a run met the frame clock at the same point, and the
    // run's median depended on whether that point let an answer catch a frame (all 20 edits
    // of one run had their frame at 13.7-14.6 ms). A person's key or click falls anywhere in
    // the frame. Resolves with the phase: ms after the start of the frame.
    async randomPhase() {
      if (!lw.frameMs) {  // the frame interval, measured once
        const stamps = [];
        for (let i = 0; i < 11; i++) stamps.push(await new Promise(requestAnimationFrame));
        const gaps = stamps.slice(1).map((t, i) => t - stamps[i]).sort((a, b) => a - b);
        lw.frameMs = gaps[5];
      }
      const start = await new Promise(requestAnimationFrame);
      await sleep(random() * lw.frameMs);
      return performance.now() - start;
    },

    hook() {
      // JupyterLab and Notebook 7: the notebook's session; Voilà: its widget manager's.
      const kernel = window.__layerwidgetPanel
        ? window.__layerwidgetPanel.sessionContext.session.kernel
        : window.jupyterapp.widgetManager.kernel;
      if (lw.kernel === kernel) return;
      lw.kernel = kernel;
      kernel.anyMessage.connect((_, { msg, direction }) => {
        const t = performance.now();
        const type = msg.header.msg_type;
        if (direction === "send") {
          if (type === "comm_msg") lw.log.push({ t, kind: "sent" });
          return;
        }
        if (type === "status") {
          // A panel edit's answer rides on its idle status (src/layerwidget/_quiet_edits.py).
          if (msg.content.layerwidget_batches) lw.log.push({ t, kind: "batch" });
          lw.log.push({ t, kind: msg.content.execution_state });
        } else if (type === "comm_msg") {
          const data = msg.content.data || {};
          const kind = data.content && data.content.kind;
          if (data.method === "custom" && kind === "layerwidget-batch") {
            lw.log.push({ t, kind: "batch" });
          }
        }
      });
    },

    panel: () => document.querySelector(".layerwidget-panel"),
    root() {
      const panel = lw.panel();
      return panel.closest(".layerwidget") || panel.closest(".widget-hbox");
    },
    // Number boxes and sliders share data-field; name the one meant.
    control(field, slider = false) {
      const panel = lw.panel();
      const type = slider ? "input[type=range]" : "input[type=number]";
      if (field === "seed" || field === "image_index") {
        return panel.querySelector(`.lw-image ${type}[data-field='${field}']`);
      }
      const layer = "fieldset[data-layer='0']";
      return panel.querySelector(`${layer} ${type}[data-field='${field}']`) ||
        panel.querySelector(`${layer} select[data-field='${field}']`);
    },
    // Each stage picture is an Element Timing target: the browser reports when it painted
    // every new picture of it (renderTime, on performance.now()'s clock).
    images() {
      const images = Array.from(lw.root().querySelectorAll(".layerwidget-stage image"));
      for (const im of images) {
        if (!im.hasAttribute("elementtiming")) im.setAttribute("elementtiming", "lw-stage");
      }
      lw.watchPaints();
      return images;
    },
    watchPaints() {
      if (!lw.paintObserver) {
        lw.painted = []; // {el, t}
        lw.waiters = new Set();
        lw.paintObserver = new PerformanceObserver((list) => {
          for (const e of list.getEntries()) {
            lw.painted.push({ el: e.element, t: e.renderTime || e.loadTime });
          }
          for (const w of Array.from(lw.waiters)) w.check();
        });
        lw.paintObserver.observe({ type: "element" });
      }
    },
    // The time the last of `images` was painted with a picture set after `t0` (null after
    // `timeout` ms). Answered from the paint observer's reports, not by polling each frame: a
    // drag leaves many pictures waiting, and polling them cost the page's main thread.
    rendered(images, t0, timeout = 5000) {
      const paintOf = (im) => {
        for (let i = lw.painted.length - 1; i >= 0; i--) {
          const p = lw.painted[i];
          if (p.el === im && p.t >= t0) return p.t;
        }
        return null;
      };
      return new Promise((resolve) => {
        const w = {
          check() {
            const times = images.map(paintOf);
            if (!times.every((t) => t !== null)) return false;
            lw.waiters.delete(w);
            resolve(Math.max(t0, ...times));
            return true;
          },
        };
        if (w.check()) return;
        lw.waiters.add(w);
        setTimeout(() => {
          if (lw.waiters.delete(w)) resolve(null);
        }, timeout);
      });
    },
    hrefs: () => lw.images().map((im) => im.getAttribute("href")),
    focusFigures: () => Array.from(lw.root().querySelectorAll(".layerwidget-focus")),
    // One string per focus figure: its picture where it has one (the focused map: its cells
    // are see-through, for the pointer), else its cells' fills (kernel, patch, products).
    focusPrints: () => lw.focusFigures().map((fig) => {
      const pictures = Array.from(fig.querySelectorAll("image"));
      if (pictures.length) return pictures.map((im) => im.getAttribute("href")).join(",");
      return Array.from(fig.querySelectorAll(".heatmapcell"), (c) => c.style.fill).join(",");
    }),
    kernelMs() {
      const m = /updated in ([\d.]+) ms/.exec(lw.panel().querySelector(".lw-timing").textContent);
      return m ? Number(m[1]) : null;
    },

    // Resolve as soon as done() holds after a DOM change under the explorer.
    until(done, what, timeout = 60000) {
      return new Promise((resolve, reject) => {
        if (done()) return resolve();
        const timer = setTimeout(() => {
          observer.disconnect();
          reject(new Error(`timed out: ${what}`));
        }, timeout);
        const observer = new MutationObserver(() => {
          if (done()) {
            observer.disconnect();
            clearTimeout(timer);
            resolve();
          }
        });
        observer.observe(lw.root(), {
          subtree: true, childList: true, attributes: true,
          attributeFilter: ["href", "src", "style"],
        });
      });
    },

    commit(control, value) {
      control.value = String(value);
      if (control.tagName === "SELECT") {
        control.dispatchEvent(new Event("change", { bubbles: true }));
      } else {
        control.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
      }
    },

    // The kernel's answer to edits made from `mark` on: its batch, then idle.
    answered(mark) {
      const events = lw.log.slice(mark);
      const batch = events.findIndex((e) => e.kind === "batch");
      return batch >= 0 && events.slice(batch).some((e) => e.kind === "idle");
    },

    // Make an edit and let it land (no timing): which stages and focus figures changed.
    async settle(field, value, quiet = 400) {
      const hrefs = lw.hrefs();
      const prints = lw.focusPrints();
      const control = lw.control(field);
      if (control.value === String(value)) return { stages: [], focus: [] };
      const mark = lw.log.length;
      lw.commit(control, value);
      const t0 = performance.now();
      while (!lw.answered(mark)) {
        if (performance.now() - t0 > 60000) throw new Error(`no answer to ${field}=${value}`);
        await sleep(10);
      }
      await sleep(quiet);
      const nowH = lw.hrefs();
      const nowF = lw.focusPrints();
      return {
        stages: hrefs.map((h, i) => i).filter((i) => nowH[i] && nowH[i] !== hrefs[i]),
        focus: prints.map((p, i) => i).filter((i) => nowF[i] !== prints[i]),
      };
    },

    // The stage figures' tile numbers (bqplot Label texts): when they last changed after t0.
    // A new mosaic's numbers come in a batch of their own, applied after the frame that
    // shows the new pictures (views/stages.py), so `numbers` times them separately. And when
    // the pictures' placement last changed (`placed`): on a new mosaic size bqplot's Image
    // mark moves the picture through d3 transitions over the next frames, before and after
    // the figure's relayout, so the first paint of a new picture can show it stretched.
    watchNumbers() {
      const isNumber = (node) => node && node.nodeType === 1 && node.matches("text.label");
      const touches = (r) => isNumber(r.target) || isNumber(r.target.parentNode) ||
        [...r.addedNodes, ...r.removedNodes].some(isNumber);
      const moves = (r) => r.type === "attributes" && r.attributeName === "transform" &&
        r.target.tagName === "image";
      const watch = { last: null, placed: null };
      const observer = new MutationObserver((records) => {
        const now = performance.now();
        if (records.some(touches)) watch.last = now;
        if (records.some(moves)) watch.placed = now;
      });
      for (const fig of document.querySelectorAll(".layerwidget-stage")) {
        observer.observe(fig, { subtree: true, childList: true, attributes: true,
          characterData: true });
      }
      watch.stop = () => observer.disconnect();
      return watch;
    },

    // One timed edit; `stages` and `focus` list what must show new state; `numbers`: also
    // time the tile numbers (waits 400 ms after the edit for them).
    async edit(field, value, stages, focus = [], numbers = false) {
      const hrefs = lw.hrefs();
      const prints = focus.length ? lw.focusPrints() : [];
      const control = lw.control(field);
      if (control.value === String(value)) return null; // nothing would change
      const mark = lw.log.length;
      const images = lw.images();
      // The focus figures' pictures are Element Timing targets too.
      const focusImages = focus.flatMap((i) =>
        Array.from(lw.focusFigures()[i].querySelectorAll("image")));
      for (const im of focusImages) im.setAttribute("elementtiming", "lw-focus");
      // The focused map's cells (see-through, for the pointer) take their values in a batch of
      // their own, applied after the frame that shows the edit: the tooltip of one of its
      // cells, read before the edit (probeBefore) and again after the paint until it changes,
      // times it.
      const probe = focus.length ? lw.probeCell() : null;
      const before = lw.probeText;
      const watch = numbers ? lw.watchNumbers() : null;
      const phase = await lw.randomPhase();
      const t0 = performance.now();
      lw.commit(control, value);
      await lw.until(() => {
        const now = lw.hrefs();
        if (!stages.every((i) => now[i] && now[i] !== hrefs[i])) return false;
        if (!focus.length) return true;
        const nowF = lw.focusPrints();
        return focus.every((i) => nowF[i] !== prints[i]);
      }, `no new view after ${field}=${value}`);
      const applied = performance.now() - t0;
      await frame();
      const framed = performance.now() - t0;
      const painted = await lw.rendered([...stages.map((i) => images[i]), ...focusImages], t0);
      if (painted === null) throw new Error(`no paint reported after ${field}=${value}`);
      // Focus figures without a picture are drawn by the frame after their cells change (no
      // timing entry).
      const gridOnly = focus.some((i) => !lw.focusFigures()[i].querySelector("image"));
      const ms = Math.max(painted - t0, gridOnly ? framed : 0);
      let readout = null;
      while (probe && performance.now() - t0 < 3000) {
        if ((await lw.pointAt(probe)) !== before) {
          readout = performance.now() - t0;
          break;
        }
      }
      if (probe) probe.dispatchEvent(new MouseEvent("mouseout", { bubbles: true }));
      let numbersAt = null;
      let placedAt = null;
      if (watch) {
        await sleep(Math.max(0, t0 + 400 - performance.now()));
        watch.stop();
        numbersAt = watch.last === null ? null : watch.last - t0;
        placedAt = watch.placed === null ? null : watch.placed - t0;
      }
      const at = (kind) => {
        const e = lw.log.slice(mark).find((x) => x.kind === kind);
        return e ? e.t - t0 : null;
      };
      return { ms, sent: at("sent"), busy: at("busy"), batch: at("batch"), applied, framed,
        readout, numbers: numbersAt, placed: placedAt, kernel_ms: lw.kernelMs(), phase,
        t0_epoch: performance.timeOrigin + t0 };
    },

    // The peer: an ipywidgets Dropdown's select; done when the new PNG is painted (its
    // Element Timing entry, as for the explorer's pictures; `framed`: decoded, then a frame,
    // this case's end point until 2026-11-27).
    async peer(field, index) {
      lw.watchPaints();
      const box = Array.from(document.querySelectorAll(".widget-dropdown")).find((d) =>
        d.querySelector("label") && d.querySelector("label").textContent.trim() === field);
      const select = box.querySelector("select");
      const img = () => document.querySelector(".widget-interact .jp-OutputArea-output img");
      const before = img() && img().getAttribute("src");
      if (select.selectedIndex === index) return null;
      const phase = await lw.randomPhase();
      const t0 = performance.now();
      select.selectedIndex = index;
      select.dispatchEvent(new Event("change", { bubbles: true }));
      await new Promise((resolve, reject) => {
        const done = () => img() && img().getAttribute("src") !== before;
        const timer = setTimeout(() => reject(new Error("no new figure")), 120000);
        const observer = new MutationObserver(() => {
          if (done()) {
            // Set in the same task as the new <img> arrived: before it can be painted.
            img().setAttribute("elementtiming", "peer");
            observer.disconnect();
            clearTimeout(timer);
            resolve();
          }
        });
        observer.observe(document.querySelector(".jp-Notebook"), {
          subtree: true, childList: true, attributes: true, attributeFilter: ["src"],
        });
      });
      const shown = img();
      await shown.decode();
      await frame();
      const framed = performance.now() - t0;
      const painted = await lw.rendered([shown], t0);
      if (painted === null) throw new Error(`no paint reported after ${field}`);
      return { ms: painted - t0, framed, phase };
    },

    // Cell (10, 12) of the focused 28×28 map, the unit the focus case picks (on the digit's
    // stroke, so its value changes with the seed); null without a focused map.
    probeCell() {
      const map = lw.focusFigures().find((f) => f.querySelector("image"));
      return map ? map.querySelectorAll(".heatmapcell")[10 * 28 + 12] || null : null;
    },
    // Read that cell's tooltip before an edit. bqplot tells the kernel about each hover: the
    // kernel has answered before the edit starts.
    async probeBefore() {
      const probe = lw.probeCell();
      lw.probeText = probe ? await lw.pointAt(probe) : null;
      if (probe) probe.dispatchEvent(new MouseEvent("mouseout", { bubbles: true }));
      await sleep(200);
    },
    // The text of the tooltip a frame after pointing at `cell` (null if none shows).
    async pointAt(cell) {
      const r = cell.getBoundingClientRect();
      for (const type of ["mouseout", "mouseover", "mousemove"]) {
        cell.dispatchEvent(new MouseEvent(type, {
          bubbles: true, clientX: r.x + r.width / 2, clientY: r.y + r.height / 2,
        }));
      }
      await frame();
      const tip = Array.from(document.querySelectorAll(".bqplot_mark_tooltip"))
        .find((t) => getComputedStyle(t).display !== "none" && t.textContent.includes("value"));
      return tip ? tip.textContent : null;
    },

    // Pointing at cell `index` of the focused map: from the mouse events to the frame that
    // shows the tooltip for that cell (no kernel involved).
    async tooltip(index) {
      const cells = lw.root().querySelectorAll(".layerwidget-focus .heatmapcell");
      const target = cells[index];
      const r = target.getBoundingClientRect();
      const tip = () => Array.from(document.querySelectorAll(".bqplot_mark_tooltip"))
        .find((t) => getComputedStyle(t).display !== "none" && t.textContent.includes("value"));
      const before = tip() ? tip().textContent : "";
      const t0 = performance.now();
      for (const type of ["mouseout", "mouseover", "mousemove"]) {
        target.dispatchEvent(new MouseEvent(type, {
          bubbles: true, clientX: r.x + r.width / 2, clientY: r.y + r.height / 2,
        }));
      }
      while (!(tip() && tip().textContent !== before)) {
        await frame();
        if (performance.now() - t0 > 5000) return null;
      }
      await frame();
      return { ms: performance.now() - t0 };
    },

    // Record the drag: every 'input' of the slider and every repaint of stage `stage`.
    watchDrag(field, stage) {
      const slider = lw.control(field, true);
      const rec = { inputs: [], paints: [] };
      slider.addEventListener("input", () => {
        rec.inputs.push([performance.now(), Number(slider.value)]);
      });
      let last = lw.hrefs()[stage];
      const observer = new MutationObserver(() => {
        const now = lw.hrefs()[stage];
        if (now && now !== last) {
          last = now;
          const t = performance.now();
          const im = lw.images()[stage];
          // A picture replaced before it was painted is not a view: count each paint once.
          lw.rendered([im], t).then((p) => {
            if (p !== null && !rec.paints.some((x) => x[1] === p)) rec.paints.push([t, p]);
          });
        }
      });
      observer.observe(lw.root(), { subtree: true, attributes: true, attributeFilter: ["href"] });
      lw.drag = { rec, observer, slider };
    },
    // A scripted drag: one 'input' per animation frame (what a browser delivers when it
    // coalesces pointer moves), the value moving evenly from the slider's min to its max over
    // `duration` ms. Resolves after the last input.
    async scriptedDrag(duration) {
      const slider = lw.drag.slider;
      const lo = Number(slider.min), hi = Number(slider.max), step = Number(slider.step) || 1;
      const t0 = performance.now();
      for (;;) {
        await frame();
        const f = Math.min(1, (performance.now() - t0) / duration);
        const v = lo + Math.round((f * (hi - lo)) / step) * step;
        if (String(v) !== slider.value) {
          slider.value = String(v);
          slider.dispatchEvent(new Event("input", { bubbles: true }));
        }
        if (f >= 1) return v;
      }
    },
    // Record repaints of stage `stage` and the pad's pointer downs and ups (the drawing case).
    watchPad(stage) {
      const pad = lw.panel().querySelector("canvas.lw-pad");
      const rec = { paints: [], downs: [], ups: [] };
      pad.addEventListener("pointerdown", () => rec.downs.push(performance.now()));
      pad.addEventListener("pointerup", () => rec.ups.push(performance.now()));
      let last = lw.hrefs()[stage];
      const observer = new MutationObserver(() => {
        const now = lw.hrefs()[stage];
        if (now && now !== last) {
          last = now;
          const im = lw.images()[stage];
          lw.rendered([im], performance.now()).then((p) => {
            if (p !== null && !rec.paints.includes(p)) rec.paints.push(p);
          });
        }
      });
      observer.observe(lw.root(), { subtree: true, attributes: true, attributeFilter: ["href"] });
      lw.pad = rec;
    },
    // Resolve once the kernel has answered everything sent and nothing was sent for `ms`.
    async quiet(ms = 300) {
      for (;;) {
        const last = lw.log[lw.log.length - 1];
        const lastSent = lw.log.map((e) => e.kind).lastIndexOf("sent");
        if (last && last.kind === "idle" && lw.answered(lastSent) &&
            performance.now() - last.t > ms) return;
        await sleep(20);
      }
    },
    endDrag() {
      const { rec, observer, slider } = lw.drag;
      observer.disconnect();
      return { ...rec, final: Number(slider.value), box: lw.control(slider.dataset.field).value };
    },
  };
  window.__lw = lw;
})();
