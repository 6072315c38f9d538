#!/usr/bin/env bash
# The ONNX loading snippets of docs/RESULTS.md, run as written (issue 25): a small sweep is
# trained and its best trial exported as ONNX; then each snippet (C++ with OpenCV DNN; the browser
# page with onnxruntime-web in headless Chromium; Python with onnxruntime where it is installed)
# classifies synthetic faces, and its answer is compared with `fersweep predict`'s.
# Needs npm (onnxruntime-web 1.20.1) and chromium. About a minute.
#
#   bash bench/onnx_snippets.sh [BUILD_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
bin="$build/cli/fersweep"
work="$(mktemp -d)"
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"

cat > spec.json <<'JSON'
{"name": "onnx-snippets", "method": "grid", "seed": 1, "epochs": 6,
 "metric": {"name": "val_macro_f1", "goal": "maximize"}, "budget": {"trials": 1},
 "data": {"train_size": 2400, "val_size": 210, "image_size": 48, "seed": 2},
 "parameters": {"arch": {"value": "vgg_custom"}, "filters": {"value": [8, 16, 32, 64]},
                "convs_per_block": {"value": 1}, "dense": {"value": [128]},
                "dropout": {"value": 0.25}, "batch_size": {"value": 64}, "lr": {"value": 0.0012}}}
JSON
"$bin" run spec.json --db sweep.db --quiet > /dev/null
"$bin" export-model --db sweep.db --trial best --out model.onnx
"$bin" data synth --format folders --count 14 --seed 9 --out faces > /dev/null
mapfile -t faces < <(find faces -name '*.png' | sort)

# A fenced block of docs/RESULTS.md by its language, the first after the line naming it.
block() {  # block LANGUAGE
  awk -v lang="$1" '$0 == "```" lang {on = 1; next} on && $0 == "```" {exit} on {print}' \
    "$root/docs/RESULTS.md"
}

block cpp > classify.cc
g++ -std=c++17 classify.cc -I/usr/include/opencv4 -lopencv_dnn -lopencv_imgcodecs \
  -lopencv_imgproc -lopencv_core -o classify

block html > index.html
(npm init -y > /dev/null && npm install --no-audit --no-fund --ignore-scripts --loglevel=error \
  onnxruntime-web@1.20.1 > /dev/null)
cp node_modules/onnxruntime-web/dist/ort.min.js node_modules/onnxruntime-web/dist/*.wasm \
  node_modules/onnxruntime-web/dist/*.mjs .
port=$((20000 + RANDOM % 20000))
python3 -m http.server "$port" --bind 127.0.0.1 > /dev/null 2>&1 &
server=$!
sleep 1

block python > classify.py
python_runs=0
if /usr/bin/python3 -c 'import onnxruntime, PIL' 2> /dev/null; then python_runs=1; fi

agree=0
echo "| image | fersweep predict | C++ (OpenCV DNN) | browser (onnxruntime-web) | Python |"
echo "|---|---|---|---|---|"
for face in "${faces[@]}"; do
  expected="$("$bin" predict --model model.onnx "$face" | awk '{print $2, $3}')"
  cpp="$(./classify model.onnx "$face" | awk '{printf "%s %.2f", $1, $2}')"
  cp "$face" face.png
  browser="$(chromium --headless --no-sandbox --no-proxy-server --disable-gpu \
    --virtual-time-budget=15000 --dump-dom "http://127.0.0.1:$port/index.html" 2> /dev/null |
    sed -n 's|.*<pre id="out">\(.*\)</pre>.*|\1|p')"
  python="not installed"
  if ((python_runs)); then
    python="$(/usr/bin/python3 classify.py | awk '{printf "%s %.2f", $1, $2}')"
  fi
  [ "$cpp" = "$expected" ] && [ "$browser" = "$expected" ] && agree=$((agree + 1))
  echo "| ${face#faces/} | $expected | $cpp | $browser | $python |"
done
echo
echo "C++ and browser agree with fersweep predict on $agree of ${#faces[@]} images."
