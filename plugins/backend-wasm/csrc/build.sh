#!/bin/sh
# Rebuild native/kernels.wasm from csrc/kernels.c (run from any directory):
#   apt-get install -y clang-14 lld-14 wabt     # Debian 12 packages; wabt only for the checks
#   plugins/backend-wasm/csrc/build.sh
# The compiled module is committed, so `npm ci` needs none of this.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../native/kernels.wasm"
CLANG=${CLANG:-clang-14}
"$CLANG" --target=wasm32 -O3 -msimd128 -matomics -mbulk-memory -nostdlib -ffreestanding \
  -fno-builtin -Wall -Wextra -Werror \
  -Wl,--no-entry -Wl,--import-memory -Wl,--shared-memory -Wl,--max-memory=4294967296 \
  -Wl,-z,stack-size=0 \
  -o "$out" "$here/kernels.c"
# The module runs inside tfjs's memory: it must not own any of it.
if command -v wasm2wat >/dev/null 2>&1; then
  wat=$(wasm2wat --enable-threads "$out")
  if printf '%s' "$wat" | grep -q -E '\(data|global\.(get|set) (\$__stack_pointer|0)'; then
    echo "build.sh: $out uses data segments or the stack; it must not (see kernels.c)" >&2
    exit 1
  fi
fi
echo "wrote $out ($(wc -c < "$out") bytes)"
