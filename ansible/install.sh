#!/usr/bin/env bash
# Installs the shmguard module for Ansible.
#   ansible/install.sh PLAYBOOK_DIR           -> PLAYBOOK_DIR/library/shmguard (+ shmguard.yml)
#   ansible/install.sh --collection OUT_DIR   -> the collection shmguard.shm, unpacked under
#                                                OUT_DIR/ansible_collections (for a tarball to
#                                                install: ansible/build-collection)
# The library/ form is the plain binary module: Ansible copies it to the host on every task
# (about five remote commands per task). The collection's action plugin keeps the build cached
# on the host instead (one remote command per task): prefer it for more than a few hosts
# (docs/ansible.md). The static musl binary is built first with bench/build-static when
# missing; SHMGUARD_BIN overrides which binary is installed (for this machine's CPU).
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
    # The collection as ansible/build-collection packs it, unpacked: plugins/ (the documented
    # module and the action plugin) and this binary as the build for this machine's CPU.
    coll="$out/ansible_collections/shmguard/shm"
    mkdir -p "$coll"
    cp -r "$here/collection/." "$coll/"
    rm -f "$coll"/files/shmguard-linux-*
    arch=$(uname -m); case $arch in amd64) arch=x86_64 ;; arm64) arch=aarch64 ;; esac
    install -m 0644 "$bin" "$coll/files/shmguard-linux-$arch"
    for other in x86_64 aarch64; do
      b=$root/target/$other-unknown-linux-musl/release/shmguard
      [ "$other" = "$arch" ] || [ ! -f "$b" ] || install -m 0644 "$b" "$coll/files/shmguard-linux-$other"
    done
    echo "collection shmguard.shm in $coll (use it as shmguard.shm.shmguard; the tarball: ansible/build-collection)"
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
