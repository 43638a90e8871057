# Shared set-up for scripts/*.sh: a virtual environment with equanimity installed.
# Usage: source scripts/_venv.sh EXTRAS   (e.g. "dev,local")
set -euo pipefail
VENV="${EQUANIMITY_VENV:-.venv}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"
python -m pip install -q --upgrade pip
case ",$1," in
  *,local,*)
    if ! python -c "import llama_cpp" 2>/dev/null; then
      # llama-cpp-python ships as source: build it portable (the native build can crash on
      # CPUs with AMX) and without the pip cache, which would reuse a native wheel.
      echo "building llama-cpp-python (about 10 minutes on 2 cores)..."
      CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" \
        python -m pip install -q --no-cache-dir "llama-cpp-python==0.3.36"
    fi
    ;;
esac
python -m pip install -q -e ".[$1]"
