#!/usr/bin/env bash
# Installs the shmguard module for Ansible.
#   ansible/install.sh PLAYBOOK_DIR           -> PLAYBOOK_DIR/library/shmguard (+ shmguard.yml)
#   ansible/install.sh --collection OUT_DIR   -> a collection tree shmguard.shm with
#                                                plugins/modules/shmguard, built with ansible-galaxy
# The module is the static musl binary (runs on any x86_64 Linux target, no Python needed);
# it is built first with bench/build-static when missing. SHMGUARD_BIN overrides which binary is installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
target=x86_64-unknown-linux-musl
bin=${SHMGUARD_BIN:-$root/target/$target/release/shmguard}
if [ ! -x "$bin" ]; then
  "$root/bench/build-static" >&2   # the shipped build: static musl, tuned for size
fi

case "${1:-}" in
  --collection)
    out=${2:?usage: install.sh --collection OUT_DIR}
    coll="$out/ansible_collections/shmguard/shm"
    mkdir -p "$coll/plugins/modules" "$coll/meta" "$coll/tests/sanity"
    install -m 0755 "$bin" "$coll/plugins/modules/shmguard"
    install -m 0644 "$here/shmguard.yml" "$coll/plugins/modules/shmguard.yml"
    version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
    cat > "$coll/galaxy.yml" <<YAML
namespace: shmguard
name: shm
version: $version
readme: README.md
authors: [shmguard contributors]
description: Enforce /dev/shm and /dev/mqueue state, live and in fstab (static binary module)
license: [MIT]
tags: [linux, tmpfs, shm, cis]
YAML
    echo 'requires_ansible: ">=2.14.0"' > "$coll/meta/runtime.yml"
    cp "$root/README.md" "$coll/README.md"
    # validate-modules cannot read a binary module; everything else in ansible-test sanity applies.
    for v in 2.19 2.20 2.21; do echo "plugins/modules/shmguard validate-modules!skip" > "$coll/tests/sanity/ignore-$v.txt"; done
    echo "collection shmguard.shm in $coll (use it as shmguard.shm.shmguard; ansible-galaxy collection build $coll)"
    ;;
  ""|-h|--help)
    echo "usage: $0 PLAYBOOK_DIR | --collection OUT_DIR" >&2
    exit 2
    ;;
  *)
    mkdir -p "$1/library"
    install -m 0755 "$bin" "$1/library/shmguard"
    install -m 0644 "$here/shmguard.yml" "$1/library/shmguard.yml"
    echo "installed $1/library/shmguard"
    ;;
esac
