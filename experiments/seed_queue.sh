#!/bin/bash
# Train one recipe's seeds one after another, one CPU thread each, into $EXP/<recipe>-s<seed> (EXP: /tmp/exp).
# A finished run is skipped, a killed one resumed from its last checkpoint (--resume), and a run that another queue
# is training is waited for. Two queues side by side use both cores of a 2-core CPU (experiments/EXPERIMENTS.md).
#   nohup experiments/seed_queue.sh default 5 6 7 &  nohup experiments/seed_queue.sh teacher_pairs 5 6 7 &
set -u
cd "$(dirname "$0")/.."
EXP=${EXP:-/tmp/exp}
mkdir -p "$EXP"
recipe=$1; shift
for seed in "$@"; do
  dir=$EXP/$recipe-s$seed
  while [ ! -f "$dir/stance_model.json" ] && pgrep -f "output-dir $dir " >/dev/null; do sleep 30; done
  [ -f "$dir/stance_model.json" ] && continue
  resume=""; ls -d "$dir".checkpoints/checkpoint-* >/dev/null 2>&1 && resume="--resume"
  echo "$(date -u +%FT%TZ) start $recipe seed $seed $resume" >> "$EXP/queue.log"
  .venv/bin/stance train --config "configs/$recipe.yaml" --output-dir "$dir" --no-progress --seed "$seed" \
    --threads 1 $resume >> "$dir.log" 2>&1
  echo "$(date -u +%FT%TZ) end $recipe seed $seed rc=$?" >> "$EXP/queue.log"
done
