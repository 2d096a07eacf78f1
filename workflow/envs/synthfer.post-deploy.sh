#!/usr/bin/env bash
# Run by Snakemake inside the new conda environment: the face detector without the packages its wheel
# declares but never imports (jax, jaxlib, opencv-contrib-python, sentencepiece, sounddevice; ~570 MB).
# The pin is detector-requirements.txt's (tests/test_packaging.py keeps them equal).
set -euo pipefail
python -m pip install --no-deps mediapipe==0.10.21
