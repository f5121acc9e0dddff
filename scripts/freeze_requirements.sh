#!/usr/bin/env bash
# Regenerate requirements.txt from the working venv. torch/torchvision are pinned to their
# PyPI releases (the venv may hold them from local wheel files).
set -euo pipefail
cd "$(dirname "$0")/.."
{
  echo "# Pinned from .venv by scripts/freeze_requirements.sh; Python 3.11."
  .venv/bin/pip freeze --exclude-editable 2>/dev/null \
    | grep -vE '^(torch|torchvision) @ ' \
    | grep -vE '^(torch|torchvision)=='
  echo "torch==2.15.0"
  echo "torchvision==0.29.2"
} > requirements.txt
echo "requirements.txt: $(grep -vc '^#' requirements.txt) packages"
