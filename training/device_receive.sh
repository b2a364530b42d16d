#!/usr/bin/env bash
# One device call per part of the teacher's weights (training/prepare_teacher.py prints the calls):
#     run(command="bash training/device_receive.sh", carry=[".teacher/pNN"], timeout_s=60)
# files the part carried in this call under .tstore/ (git-ignored, so the warm machine keeps it
# for the next call) and lists what has arrived. `TEACHER=1 bash training/device_run.sh` joins them.
set -euo pipefail
mkdir -p .tstore
for f in .teacher/p*/model.safetensors.part*; do
    [ -e "$f" ] && mv "$f" .tstore/
done
ls -l .tstore
echo "$(ls .tstore | wc -l) part(s) here"
