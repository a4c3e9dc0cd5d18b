#!/usr/bin/env bash
# Run every benchmark and print all figures (see BENCHMARKS.md for what each measures).
#
#   sudo bench/run.sh            # from the repository root; root for the namespaces of scale.py
#   PYTHON=.venv/bin/python bench/run.sh
#
# Each script prints its own PASS/FAIL lines against its targets; this runner
# goes on after a failure and exits 1 if any script failed. Without root,
# scale.py falls back to NTP-only latency on loopback and says so. Each script
# takes its own options (--help); run one by hand to change them.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ -z "${PYTHON:-}" ]; then
    for candidate in .venv/bin/python /work/venv/bin/python python3; do
        if command -v "$candidate" >/dev/null 2>&1; then
            PYTHON=$candidate
            break
        fi
    done
fi

# In the order of BENCHMARKS.md; scripts that are not there yet are skipped with a note.
SCRIPTS=(startup.py scale.py winrm.py winrm_transport.py relays.py)

failed=()
for script in "${SCRIPTS[@]}"; do
    if [ ! -f "bench/$script" ]; then
        echo "=== bench/$script: not present, skipped"
        continue
    fi
    echo "=== bench/$script"
    started=$(date +%s)
    if "$PYTHON" "bench/$script"; then
        status=ok
    else
        status="FAILED (exit $?)"
        failed+=("$script")
    fi
    echo "=== bench/$script: $status in $(( $(date +%s) - started )) s"
    echo
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "benchmarks that failed or missed a target: ${failed[*]}"
    exit 1
fi
echo "all benchmarks met their targets"
