#!/usr/bin/env bash
# Puts back the zoo run folders that scripts/device_zoo_stretch.sh packed on a
# lent GPU: FILES_AT is the folder where the device tool left its files.
set -euo pipefail
files=${1:?usage: device_zoo_unpack.sh FILES_AT}
for name in predrnn convlstm; do
  parts=("$files"/"$name".tar.part-*)
  [[ -e ${parts[0]} ]] || { echo "no $name parts in $files" >&2; exit 1; }
  rm -rf "zoo/$name.device" && mkdir -p "zoo/$name.device"
  cat "${parts[@]}" | tar -xf - -C "zoo/$name.device"
  rm -rf "zoo/$name" && mv "zoo/$name.device/$name" "zoo/$name" && rmdir "zoo/$name.device"
  echo "zoo/$name: $(ls "zoo/$name/checkpoints")"
done
