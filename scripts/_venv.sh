# Sourced by scripts/*: create or reuse .venv and install fastnn with the given extras.
# Reinstalls only when pyproject.toml or the extras change (a stamp file records them).
ensure_venv() {
    local extras="$1"
    local py="${PYTHON:-python3}"
    if [ ! -x .venv/bin/python ]; then
        "$py" -m venv .venv
    fi
    local stamp=".venv/.fastnn-installed-$(cksum < pyproject.toml | cut -d' ' -f1)-${extras//,/-}"
    if [ ! -f "$stamp" ]; then
        .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[${extras}]"
        rm -f .venv/.fastnn-installed-*
        touch "$stamp"
    fi
}
