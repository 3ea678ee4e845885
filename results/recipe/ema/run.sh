#!/bin/bash
# EMA trial: the 800-step tiny recipe of the 3-minute target, with an EMA of the weights (decay $1)
d=$1
for s in 1 0 2; do
OMP_NUM_THREADS=1 .venv/bin/python bench/time_to_accuracy.py --name tiny_800steps_ema${d}_seed$s --preset tiny --steps 800 --eval-every 100 --seed $s \
    --set optim.lr=2e-3 --set optim.schedule=cosine --set optim.warmup_steps=100 --set loss.w_velocity=0 --set loss.w_align=0 \
    --set optim.ema=$d --out runs/tta_ema --run-dir runs/tta_ema_runs
done
