#!/usr/bin/env bash
# The workers sweep on a lent many-core machine that reaches no package registry
# (docs/benchmark.md, "The sweep on a many-core machine").
#
#   scripts/device_sweep.sh pack    # here, after `make install browser` and one `make run`
#   scripts/device_sweep.sh run     # there, from the project root: the device tool's command
#                                   #   "bash scripts/device_sweep.sh run", carry [".devpay"]
#
# `pack` runs the shared packer (../shared/tools/device-bench/pack.sh: Python, the runtime
# dependencies, anvil, the compiled contracts) and adds what a node needs beyond them:
#   - the project's own dist-info, so that the `projchain.seeds` entry point (the demo data
#     that gives the benchmark its tokens) is found without installing the project;
#   - a subset of the 备案证 font (Noto Sans CJK SC: GB 2312 and every character of the
#     sources), since the demo renders 备案证 and the full font (19 MB) does not fit;
#   - shared libraries stripped of debug symbols, so that the tree stays under the tool's
#     64 MiB (the packer's payload alone is ≈ 60 MB; stripped ≈ 41 MB).
# `run` unpacks it and runs `scripts/bench.py --sweep-only` (the same-run baseline, then a
# fresh node per PROJCHAIN_WORKERS value: bulk then single-record writes); the log and the
# JSON go to $OUT. WORKERS (default 1,2,4,8,16) and LIMIT_S (default 520) change it.
set -euo pipefail
cd "$(dirname "$0")/.."

pack() {
  local packer=../shared/tools/device-bench/pack.sh
  [ -x "$packer" ] || { echo "no packer at $packer"; exit 2; }
  "$packer"
  local work; work=$(mktemp -d); trap 'rm -rf "$work"' RETURN
  xz -dc .devpay/payload.tar.xz | tar -C "$work" -xf -
  find "$work/py" -name '*.so*' -type f -exec strip --strip-debug {} + 2>/dev/null || true
  rm -rf "$work"/py/lib/python3.*/{ensurepip,lib2to3,pydoc_data} "$work/py/include"
  tar -C "$work" -cf - py node_modules | xz -T0 -6 > .devpay/payload.tar.xz
  mkdir -p .devpay/meta .devpay/font
  cp -r .venv/lib/python3.*/site-packages/projchain-*.dist-info .devpay/meta/
  .venv/bin/python - <<'EOF'
import pathlib
chars = {chr(c) for c in range(0x20, 0x7F)} | set("□\ufffd")
for pattern in ("node_api/**/*.py", "demo/**/*.py", "demo/**/*.json", "bench/**/*.py"):
    for path in pathlib.Path(".").glob(pattern):
        chars |= set(path.read_text(encoding="utf-8"))
for hi in range(0xA1, 0xF8):  # GB 2312's two-byte rows
    for lo in range(0xA1, 0xFF):
        try:
            chars.add(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
pathlib.Path(".devpay/font/chars.txt").write_text("".join(sorted(c for c in chars if c >= " ")))
EOF
  .venv/bin/pyftsubset /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc --font-number=2 \
    --text-file=.devpay/font/chars.txt --output-file=.devpay/font/NotoSansCJKsc-subset.otf --name-IDs='*'
  cp "$0" .devpay/device_sweep.sh
  du -sh .devpay
}

run() {
  : "${OUT:?run on the device machine, where OUT is set}"
  tar -xJf .devpay/payload.tar.xz && mkdir -p build && cp -r .devpay/artifacts build/
  export LD_LIBRARY_PATH=$PWD/py/lib PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/.devpay/meta:$PWD \
    PROJCHAIN_CERTIFICATE_FONT=$PWD/.devpay/font/NotoSansCJKsc-subset.otf
  nproc | tee "$OUT/probe.txt"
  timeout "${LIMIT_S:-520}" ./py/bin/python3 scripts/bench.py --sweep-only --workers-sweep "${WORKERS:-1,2,4,8,16}" \
    --out "$OUT" --name device-sweep 2>&1 | tee "$OUT/sweep.log"
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) echo "usage: $0 pack|run"; exit 2 ;;
esac
