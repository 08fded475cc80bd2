# Sourced by scripts/*: create or reuse .venv and install fastnn with the given extras.
# Reinstalls only when pyproject.toml or the extras change (a stamp file records them).
# pip's output goes to .venv/pip.log and is shown only if the install fails.
ensure_venv() {
    local extras="$1"
    local py="${PYTHON:-python3}"
    if [ ! -x .venv/bin/python ]; then
        "$py" -m venv .venv
    fi
    local stamp=".venv/.fastnn-installed-$(cksum < pyproject.toml | cut -d' ' -f1)-${extras//,/-}"
    if [ ! -f "$stamp" ]; then
        echo "setting up .venv (fastnn[${extras}]) ..." >&2
        if ! { .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip &&
               .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[${extras}]"; } \
               > .venv/pip.log 2>&1; then
            cat .venv/pip.log >&2
            echo "scripts: installing fastnn[${extras}] into .venv failed (log above)" >&2
            return 1
        fi
        rm -f .venv/.fastnn-installed-*
        touch "$stamp"
    fi
}
