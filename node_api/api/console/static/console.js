// projchain console: the few things done in the browser. Loaded from the node, nothing from elsewhere.
// 1. A document chosen for a 批复 or an event is hashed here (Web Crypto SHA-256) and its digest
//    shown before the officer seals; the node checks the uploaded bytes against it.
// 2. The auditor's access log: every entry's RFC 6962 inclusion proof is checked here against the
//    root anchored on chain, so the auditor need not trust the node it looks through.
"use strict";

function hex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}
function unhex(text) {
  const clean = text.replace(/^0x/, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.substr(i * 2, 2), 16);
  return out;
}
const NO_CRYPTO = "本页需通过 HTTPS（或本机）打开才能在浏览器中计算摘要 · open the console over HTTPS " +
  "(or on this machine): browsers offer Web Crypto only to secure pages";
async function sha256(...parts) {
  if (!window.crypto || !crypto.subtle) throw new Error(NO_CRYPTO);
  const size = parts.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { all.set(p, at); at += p.length; }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", all));
}

// -- 1. document digests ------------------------------------------------------------------
async function showDigest(input) {
  const target = document.getElementById(input.dataset.digestTarget);
  const field = document.getElementById(input.dataset.digestField);
  const submit = input.form.querySelector("button[type=submit]");
  if (!input.files.length) { target.textContent = "—"; field.value = ""; return; }
  if (submit) submit.disabled = true;
  target.textContent = "计算中… computing…";
  const data = new Uint8Array(await input.files[0].arrayBuffer());
  let digest;
  try {
    digest = "0x" + hex(await sha256(data));
  } catch (err) {
    target.textContent = String(err.message || err);
    return;
  }
  field.value = digest;
  target.textContent = digest;
  target.dataset.ready = "true";
  if (submit) submit.disabled = false;
}
document.addEventListener("change", (e) => {
  if (e.target.matches && e.target.matches("input[type=file][data-digest-target]")) showDigest(e.target);
});

// -- 2. access-log proofs (RFC 6962 leaf/node hashes, RFC 9162 §2.1.3.2 verification) ----------
const LEAF = new Uint8Array([0]);
const NODE = new Uint8Array([1]);
async function verifyInclusion(leaf, index, size, proof, root) {
  if (index >= size) return false;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(NODE, p, r);
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = await sha256(NODE, r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 && hex(r) === hex(root);
}
async function checkEntry(row) {
  const out = row.querySelector(".proof");
  const entry = new TextEncoder().encode(row.dataset.entry);
  const leaf = await sha256(LEAF, entry);
  if ("0x" + hex(leaf) !== row.dataset.leaf) {
    out.textContent = "✗ 条目与叶哈希不符 entry does not hash to its leaf"; out.className = "proof proof-bad";
    return false;
  }
  if (!row.dataset.root) {
    out.textContent = "… 尚未锚定 not anchored yet"; out.className = "proof"; return null;
  }
  const proof = JSON.parse(row.dataset.proof).map(unhex);
  const ok = await verifyInclusion(leaf, Number(row.dataset.index), Number(row.dataset.size), proof,
    unhex(row.dataset.root));
  out.textContent = ok ? "✓ 已在浏览器中验证 verified in this browser" : "✗ 证明无效 proof does not verify";
  out.className = ok ? "proof proof-ok" : "proof proof-bad";
  row.dataset.verified = ok ? "true" : "false";
  return ok;
}
async function checkAccessLog() {
  const table = document.getElementById("access-log");
  if (!table) return;
  if (!window.crypto || !crypto.subtle) {
    const summary = document.getElementById("proof-summary");
    summary.textContent = NO_CRYPTO; summary.className = "flash bad"; return;
  }
  const rows = Array.from(table.querySelectorAll("tr[data-entry]"));
  const results = await Promise.all(rows.map(checkEntry));
  const summary = document.getElementById("proof-summary");
  const ok = results.filter((r) => r === true).length;
  const bad = results.filter((r) => r === false).length;
  const open = results.filter((r) => r === null).length;
  summary.dataset.ok = ok; summary.dataset.bad = bad; summary.dataset.unanchored = open;
  summary.textContent = `${ok} 条已验证 verified · ${bad} 条失败 failed · ${open} 条未锚定 not anchored`;
  summary.className = bad ? "flash bad" : "flash ok";
  table.dataset.checked = "true";
}
document.addEventListener("DOMContentLoaded", checkAccessLog);
document.addEventListener("htmx:afterSwap", checkAccessLog);
