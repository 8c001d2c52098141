#!/usr/bin/env sh
# Print the newest Python >= 3.12 found on this machine, or explain what to install.
# Order: python3.13, python3.12 on PATH (a pyenv shim on PATH that is not activated
# fails to run and is skipped), then interpreters installed under pyenv's versions folder.
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
for p in python3.13 python3.12 python3; do
    if command -v "$p" >/dev/null 2>&1 && ok "$p"; then command -v "$p"; exit 0; fi
done
root="${PYENV_ROOT:-$HOME/.pyenv}"
for p in $(ls -d "$root"/versions/3.13* "$root"/versions/3.12* 2>/dev/null | sort -rV); do
    for exe in "$p"/bin/python3.13 "$p"/bin/python3.12; do
        if [ -x "$exe" ] && ok "$exe"; then echo "$exe"; exit 0; fi
    done
done
echo "jaxsci needs Python >= 3.12 (jax >= 0.11.2 has no wheels for older Pythons), and none" >&2
echo "was found (tried python3.13, python3.12, python3 and $root/versions/3.1[23]*)." >&2
echo "Install one (e.g. 'apt-get install python3.12 python3.12-venv', 'pyenv install 3.13'," >&2
echo "or uv: 'uv python install 3.13') or point make at it: make test PYTHON=/path/to/python3.12" >&2
exit 1
