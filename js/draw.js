// The drawing pad and the picture upload of the panel.
//
// The pad is white ink on black, as MNIST's digits are bright strokes on a dark field. While a
// stroke is drawn, the pad's pixels go to the kernel as a 56×56 grey picture, at most once per
// frame; the flow control keeps one edit in flight and merges the rest, so the maps follow the
// pen and the last stroke always lands. An upload is checked here (size, type, dimensions,
// whether it decodes) before anything is sent, and scaled down to at most 512 px a side.
// Texts from the model or from file names are set with textContent only.
// Why ~330 lines: the pad (pointer, touch and pen input), its 56×56 sampling and the upload
// checks are one control; they share the canvas and the send path.

import { h } from "./dom.js";

const DRAW_PAD_PX = 168; // CSS pixels a side; 3 × 56, so one sent pixel is 3×3 CSS pixels
const DRAW_SEND_SIDE = 56;
const DRAW_INK_WIDTH = DRAW_PAD_PX / 12; // an MNIST-like stroke: about 2 of 28 pixels wide
const DRAW_MAX_FILE_BYTES = 10 * 1024 * 1024; // "10 MB" in the messages
const DRAW_MAX_SIDE = 4096;
const DRAW_UPLOAD_SIDE = 512;
const DRAW_HEADER_BYTES = 1024 * 1024; // where a JPEG's size must be found (after EXIF etc.)

// base64 of bytes, in chunks: String.fromCharCode(...bytes) overflows the stack for big arrays.
function drawBase64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

// Mean of the red (ink) channel over the source pixels that fall in each of side×side cells.
function drawDownsample(ctx, width, height, side) {
  const { data } = ctx.getImageData(0, 0, width, height);
  const sums = new Float64Array(side * side);
  const counts = new Float64Array(side * side);
  const cellX = Array.from({ length: width }, (_, x) => Math.floor((x * side) / width));
  for (let y = 0; y < height; y++) {
    const row = Math.floor((y * side) / height) * side;
    for (let x = 0; x < width; x++) {
      sums[row + cellX[x]] += data[(y * width + x) * 4];
      counts[row + cellX[x]] += 1;
    }
  }
  const out = new Uint8Array(side * side);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(sums[i] / counts[i]);
  return out;
}

// { type, width, height } read from a PNG's or JPEG's header, or null: the size is known before
// the picture is decoded, so a small file that unpacks to a huge picture is refused unopened.
function drawPictureHeader(bytes) {
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length >= 24 && png.every((b, i) => bytes[i] === b)) {
    const ihdr = String.fromCharCode(...bytes.subarray(12, 16));
    if (ihdr !== "IHDR") return null;
    return { type: "PNG", width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1];
    if (marker === 0xff) { at += 1; continue; } // fill byte
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) { at += 2; continue; }
    if (marker === 0xd9 || marker === 0xda) return null; // end, or data before any frame size
    const length = view.getUint16(at + 2);
    const frame = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (frame && at + 9 <= bytes.length) {
      return { type: "JPEG", width: view.getUint16(at + 7), height: view.getUint16(at + 5) };
    }
    at += 2 + length;
  }
  return null;
}

function drawFileSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// Returns { el, sync(), setLocked(locked), controls }. `sync` shows the model's `drawing` when
// another view of the same panel drew it (or cleared it); `controls` maps the traits "drawing"
// and "upload" to the elements a kernel error about them should mark.
export function drawSection(model, flow, uid) {
  const canvas = h("canvas", {
    id: `${uid}-pad`, class: "lw-pad", role: "img",
    "aria-label": "drawing pad: draw a digit with the mouse, a finger or a pen",
  });
  const ratio = Math.max(1, Math.min(4, window.devicePixelRatio || 1));
  canvas.width = canvas.height = Math.round(DRAW_PAD_PX * ratio);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const clear = h("button", { type: "button", text: "Clear", "aria-controls": canvas.id });
  const padState = h("output", { class: "lw-pad-state", "aria-live": "polite" });
  const hint = h("div", {
    class: "lw-hint",
    text: "Draw a digit, white on black as in MNIST: the maps follow as you draw.",
  });
  const file = h("input", {
    id: `${uid}-upload`, type: "file", accept: "image/png,image/jpeg", class: "lw-upload",
  });
  const uploadInfo = h("output", { class: "lw-upload-info", "aria-live": "polite" });
  const uploadError = h("div", { class: "lw-draw-message", role: "alert" });
  uploadError.hidden = true;
  const el = h("fieldset", { class: "lw-draw" }, [
    h("legend", { text: "Draw or upload" }),
    hint,
    h("div", { class: "lw-pad-row" }, [
      canvas, h("div", { class: "lw-pad-side" }, [clear, padState]),
    ]),
    h("div", { class: "lw-field" }, [h("label", { for: file.id, text: "upload a picture" }), file]),
    uploadInfo,
    uploadError,
  ]);

  let locked = false;
  let inked = false;
  let stroke = null; // { id, x, y } of the pointer drawing now
  let frame = 0;
  let lastSent = null; // the value this view sent last (the model holds it by reference)
  let lastPixels = "";
  let uploads = 0;

  function blank() {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(canvas.width / DRAW_PAD_PX, 0, 0, canvas.height / DRAW_PAD_PX, 0, 0);
    inked = false;
    showPadState();
  }

  function showPadState() {
    padState.textContent = inked ? "" : "The pad is empty: draw something.";
  }

  function sendDrawing() {
    cancelAnimationFrame(frame);
    frame = 0;
    if (!inked) return;
    const grey = drawDownsample(ctx, canvas.width, canvas.height, DRAW_SEND_SIDE);
    const pixels = drawBase64(grey);
    if (pixels === lastPixels) return;
    lastPixels = pixels;
    lastSent = { width: DRAW_SEND_SIDE, height: DRAW_SEND_SIDE, pixels };
    flow.send("drawing", lastSent);
  }

  const scheduleSend = () => {
    if (!frame) frame = requestAnimationFrame(sendDrawing);
  };

  // Pad coordinates (CSS pixels, 0–168) of a pointer event, whatever the canvas's border.
  function point(event) {
    const box = canvas.getBoundingClientRect();
    const x = (event.clientX - box.left - canvas.clientLeft) * (DRAW_PAD_PX / canvas.clientWidth);
    const y = (event.clientY - box.top - canvas.clientTop) * (DRAW_PAD_PX / canvas.clientHeight);
    return { x, y };
  }

  function ink(from, to) {
    ctx.strokeStyle = ctx.fillStyle = "#fff";
    ctx.lineWidth = DRAW_INK_WIDTH;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.beginPath();
    if (from.x === to.x && from.y === to.y) {
      ctx.arc(to.x, to.y, DRAW_INK_WIDTH / 2, 0, 2 * Math.PI);
      ctx.fill();
    } else {
      ctx.moveTo(from.x, from.y);
      ctx.lineTo(to.x, to.y);
      ctx.stroke();
    }
    if (!inked) {
      inked = true;
      showPadState();
    }
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (locked || stroke || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    const p = point(event);
    stroke = { id: event.pointerId, ...p };
    ink(p, p);
    scheduleSend();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!stroke || event.pointerId !== stroke.id) return;
    event.preventDefault();
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const e of events.length ? events : [event]) {
      const p = point(e);
      ink(stroke, p);
      stroke.x = p.x;
      stroke.y = p.y;
    }
    scheduleSend();
  });
  const endStroke = (event) => {
    if (!stroke || event.pointerId !== stroke.id) return;
    stroke = null;
    sendDrawing();
  };
  canvas.addEventListener("pointerup", endStroke);
  canvas.addEventListener("pointercancel", endStroke);
  canvas.addEventListener("lostpointercapture", endStroke);

  clear.addEventListener("click", () => {
    cancelAnimationFrame(frame);
    frame = 0;
    stroke = null;
    blank();
    lastPixels = "";
    lastSent = null;
    flow.send("drawing", null);
  });

  // ---- upload ----

  function refuse(text) {
    uploadError.textContent = text;
    uploadError.hidden = false;
  }

  async function upload(picked) {
    uploadError.hidden = true;
    uploadInfo.textContent = `${picked.name}: ${drawFileSize(picked.size)}, reading…`;
    const name = picked.name;
    if (picked.size > DRAW_MAX_FILE_BYTES) {
      uploadInfo.textContent = "";
      refuse(`${name} is ${drawFileSize(picked.size)}, over the limit of 10 MB. ` +
        "Pick a smaller PNG or JPEG, or scale the picture down first.");
      return;
    }
    const head = new Uint8Array(await picked.slice(0, DRAW_HEADER_BYTES).arrayBuffer());
    const header = drawPictureHeader(head);
    if (!header) {
      uploadInfo.textContent = "";
      refuse(`${name} is not a PNG or JPEG picture (its first bytes are not a PNG or JPEG ` +
        "header). Pick a .png or .jpg file.");
      return;
    }
    const dims = `${header.width}×${header.height} px`;
    if (header.width > DRAW_MAX_SIDE || header.height > DRAW_MAX_SIDE ||
        !header.width || !header.height) {
      uploadInfo.textContent = "";
      refuse(`${name} is ${dims}; pictures of 1 to ${DRAW_MAX_SIDE} px a side are taken. ` +
        "Scale it down first.");
      return;
    }
    let bitmap;
    try {
      bitmap = await createImageBitmap(picked);
    } catch (err) {
      uploadInfo.textContent = "";
      refuse(`${name} could not be decoded as a ${header.type} picture: the file is damaged ` +
        "or incomplete. Save the picture again, or pick another file.");
      return;
    }
    const scale = Math.min(1, DRAW_UPLOAD_SIDE / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const scratch = h("canvas");
    scratch.width = width;
    scratch.height = height;
    const sctx = scratch.getContext("2d", { willReadFrequently: true });
    sctx.imageSmoothingEnabled = true;
    sctx.imageSmoothingQuality = "high";
    sctx.drawImage(bitmap, 0, 0, width, height);
    bitmap.close();
    const rgba = sctx.getImageData(0, 0, width, height).data;
    const sent = scale < 1 ? `, sent as ${width}×${height} px` : "";
    uploadInfo.textContent = `${name}: ${drawFileSize(picked.size)}, ${header.type} ${dims}${sent}`;
    flow.send("upload", {
      name, width, height, pixels: drawBase64(new Uint8Array(rgba.buffer)), n: ++uploads,
    });
  }

  file.addEventListener("change", () => {
    const picked = file.files && file.files[0];
    file.value = ""; // so that picking the same file again uploads it again
    if (!picked || locked) return;
    upload(picked).catch((err) => {
      uploadInfo.textContent = "";
      refuse(`${picked.name} could not be read (${err && err.message ? err.message : err}).`);
    });
  });

  // Another view of this panel drew or cleared: show its drawing (this view's own is already
  // on the pad, sharper than the 56×56 that was sent).
  function sync() {
    const value = model.get("drawing");
    if (value === lastSent || stroke) return;
    lastSent = value;
    blank();
    lastPixels = "";
    if (!value || value.width !== DRAW_SEND_SIDE || value.height !== DRAW_SEND_SIDE) return;
    let raw;
    try {
      raw = atob(value.pixels);
    } catch (err) {
      return;
    }
    if (raw.length !== DRAW_SEND_SIDE * DRAW_SEND_SIDE) return;
    const picture = new ImageData(DRAW_SEND_SIDE, DRAW_SEND_SIDE);
    for (let i = 0; i < raw.length; i++) {
      const v = raw.charCodeAt(i);
      picture.data.set([v, v, v, 255], i * 4);
    }
    const small = h("canvas");
    small.width = small.height = DRAW_SEND_SIDE;
    small.getContext("2d").putImageData(picture, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(small, 0, 0, DRAW_PAD_PX, DRAW_PAD_PX);
    inked = raw.split("").some((c) => c !== "\0");
    lastPixels = value.pixels;
    showPadState();
  }

  blank();

  return {
    el,
    sync,
    controls: { drawing: canvas, upload: file },
    setLocked(value) {
      locked = !!value;
      clear.disabled = file.disabled = locked;
      canvas.classList.toggle("lw-locked", locked);
      if (locked) stroke = null;
    },
  };
}
