#!/usr/bin/env bash
# One prepared stretch of the zoo runs on a lent GPU (issue 22, item 3).
#
# The device tool runs this from the repository root of a copy of the working
# tree. It trains zoo/predrnn (resumed) and zoo/convlstm (resumed, or started
# from configs/mmnist/zoo/convlstm.yaml) side by side on the one GPU for
# MINUTES each, then packs both run folders into $OUT in parts of 15 MB (the
# device tool returns files of at most 16 MiB). MNIST travels in .mnist/,
# which .git/info/exclude ignores and `carry` names:
#
#   mkdir -p .mnist && cp ../shared/data/mnist/*.gz .mnist/ && echo /.mnist/ >> .git/info/exclude
#   device run: carry [".mnist"], timeout_s 600,
#               command "bash scripts/device_zoo_stretch.sh 7"
#
# Back here, unpack with scripts/device_zoo_unpack.sh FILES_AT, which puts the
# run folders back in zoo/ (the best checkpoints included), then log the
# stretch in zoo/NAME/STRETCHES.md.
set -euo pipefail
minutes=${1:?usage: device_zoo_stretch.sh MINUTES}
out=${OUT:?set OUT to the folder for the results}
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1 FRAMECAST_MNIST_DIR=$PWD/.mnist
python3 -c "import torch, lightning; print('torch', torch.__version__, 'lightning', \
  lightning.__version__, torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU')"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true

# a resumed run's train.max_minutes is its whole wall time across stretches
total_minutes() {
  python3 - "$1" "$minutes" <<'PY'
import sys, torch
state = torch.load(sys.argv[1], map_location="cpu", weights_only=True, mmap=True)
elapsed = state["callbacks"]["Timer"]["time_elapsed"]
print(round(sum(elapsed.values()) / 60 + float(sys.argv[2]), 1))
PY
}

overrides=(train.max_steps=200000 train.num_threads=4 data.num_workers=4)
pids=()
for name in predrnn convlstm; do
  if [[ -f zoo/$name/checkpoints/last.ckpt ]]; then
    cmd=(train --resume "zoo/$name" "train.max_minutes=$(total_minutes "zoo/$name/checkpoints/last.ckpt")")
  else
    cmd=(train --config "configs/mmnist/zoo/$name.yaml" "train.max_minutes=$minutes")
  fi
  echo "framecast ${cmd[*]} ${overrides[*]}"
  python3 -m framecast "${cmd[@]}" "${overrides[@]}" > "$out/$name.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
for name in predrnn convlstm; do
  tail -4 "$out/$name.log"
  tar -cf - -C zoo "$name" | split -b 15M -d - "$out/$name.tar.part-"
done
ls -l "$out"
exit "$status"
